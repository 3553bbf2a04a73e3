-- Records the span of a session's reported events (covered EventBridge events left out) and
-- returns the end that open intervals close at: its last reported event, or its recorded end if
-- later.
UPDATE sessions
SET (first_event_us, last_event_us) = (
    SELECT min(e.event_time_us), max(e.event_time_us)
    FROM events e
    WHERE e.session_key = ?1 AND e.covered = 0)
WHERE session_key = ?1
RETURNING max(coalesce(last_event_us, 0), coalesce(end_time_us, 0))
