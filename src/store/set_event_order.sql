UPDATE events
SET seq = ?2, step = ?3, effect = ?4, connected_delta = ?5, publishing_delta = ?6
WHERE event_key = ?1
  AND (seq, step, effect, connected_delta, publishing_delta) IS NOT (?2, ?3, ?4, ?5, ?6)
