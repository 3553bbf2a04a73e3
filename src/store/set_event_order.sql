-- An event is found by its primary key: session, participant, time and identity.
UPDATE events
SET seq = ?5, step = ?6, effect = ?7, connected_delta = ?8, publishing_delta = ?9
WHERE session_key = ?1 AND participant_key = ?2 AND event_time_us = ?3 AND identity = ?4
  AND (seq, step, effect, connected_delta, publishing_delta) IS NOT (?5, ?6, ?7, ?8, ?9)
