-- A participant's intervals, numbered in order: the values come from a function the writer
-- defines (store.rs, WriteBack) over what the interval rules derived for this participant.
INSERT INTO intervals (session_key, participant_key, ordinal, kind, remote_participant_id,
                       started_at_us, stopped_at_us, closed_by)
SELECT ?1, ?2, value, derived_interval(value, 0), derived_interval(value, 1),
       derived_interval(value, 2), derived_interval(value, 3), derived_interval(value, 4)
FROM generate_series(1, ?3)
