-- Order-independent: the earliest start and the latest end any record gave. A record without a
-- time (an active session has no endTime yet) leaves the stored one.
UPDATE sessions
SET start_time_us = min(coalesce(?2, start_time_us), coalesce(start_time_us, ?2)),
    end_time_us = max(coalesce(?3, end_time_us), coalesce(end_time_us, ?3))
WHERE session_key = ?1
