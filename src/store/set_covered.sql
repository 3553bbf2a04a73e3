-- A participant's EventBridge events are covered (kept, not counted) once it has any API data.
UPDATE events
SET covered = (source = 'eventbridge' AND ?3)
WHERE session_key = ?1 AND participant_key = ?2 AND covered <> (source = 'eventbridge' AND ?3)
