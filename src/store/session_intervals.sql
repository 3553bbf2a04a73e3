-- A session's intervals of one kind, for its peak.
SELECT started_at_us, stopped_at_us
FROM intervals
WHERE session_key = ?1 AND kind = ?2
