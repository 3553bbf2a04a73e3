-- A record without a time leaves the stored one: an active session's record has no endTime yet.
UPDATE sessions
SET start_time_us = coalesce(?2, start_time_us),
    end_time_us = coalesce(?3, end_time_us)
WHERE session_key = ?1
