-- Writes back how each of a participant's events applied: the values come from functions the
-- writer defines (store.rs, WriteBack) over what the interval rules derived for this
-- participant. Only rows that change are written.
UPDATE events
SET seq = applied(event_time_us, identity, 0),
    step = applied(event_time_us, identity, 1),
    effect = applied(event_time_us, identity, 2),
    connected_delta = applied(event_time_us, identity, 3),
    publishing_delta = applied(event_time_us, identity, 4)
WHERE session_key = ?1 AND participant_key = ?2
  AND applied_differs(event_time_us, identity, seq, step, effect, connected_delta,
                      publishing_delta)
