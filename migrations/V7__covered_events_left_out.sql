-- V7: an EventBridge event covered by its participant's ListParticipantEvents data is left out of
-- the interval rules, and now always reads so: seq 0, step 2, an empty effect and no deltas.
-- Before, an event covered by a later import kept what an earlier derivation had written.
UPDATE events
SET seq = 0, step = 2, effect = '', connected_delta = 0, publishing_delta = 0
WHERE covered = 1
  AND (seq, step, effect, connected_delta, publishing_delta) IS NOT (0, 2, '', 0, 0);
