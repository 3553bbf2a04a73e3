-- The session end that open intervals close at: its last reported event, or its recorded end if
-- later.
SELECT max(
    coalesce((SELECT max(event_time_us) FROM events WHERE session_key = ?1 AND covered = 0), 0),
    coalesce((SELECT end_time_us FROM sessions WHERE session_key = ?1), 0))
