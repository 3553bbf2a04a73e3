-- A user id an event tells (EventBridge does) fills a participant that has none yet; participant
-- records, which are the authority on it, overwrite it.
UPDATE participants SET user_id = ?2 WHERE participant_key = ?1 AND user_id IS NULL
