-- The connected and publishing intervals of a session, for its peaks.
SELECT kind, started_at_us, stopped_at_us
FROM intervals
WHERE session_key = ?1 AND kind IN ('connected', 'publishing')
