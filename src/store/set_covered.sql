-- A participant's EventBridge events are covered (kept, not counted) once it has any API data.
-- An event the rules leave out has no place in their order: its seq, step and effect are reset
-- to those of an event never derived.
UPDATE events
SET covered = 1 - covered,
    seq = iif(covered, seq, 0),
    step = iif(covered, step, 2),
    effect = iif(covered, effect, ''),
    connected_delta = iif(covered, connected_delta, 0),
    publishing_delta = iif(covered, publishing_delta, 0)
WHERE session_key = ?1 AND participant_key = ?2
  AND covered <> (source = 'eventbridge' AND EXISTS (
      SELECT 1 FROM events api
      WHERE api.session_key = ?1 AND api.participant_key = ?2 AND api.source = 'api'))
