-- The end a session's open intervals close at, as recorded before this batch: its last reported
-- event, or its recorded end if later.
SELECT max(coalesce(last_event_us, 0), coalesce(end_time_us, 0))
FROM sessions
WHERE session_key = ?1
