-- A participant's EventBridge events are covered (kept, not counted) once it has any API data.
UPDATE events
SET covered = 1 - covered
WHERE session_key = ?1 AND participant_key = ?2
  AND covered <> (source = 'eventbridge' AND EXISTS (
      SELECT 1 FROM events api
      WHERE api.session_key = ?1 AND api.participant_key = ?2 AND api.source = 'api'))
