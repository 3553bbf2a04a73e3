-- Intervals that were still open close at the session end, which a later import can move.
UPDATE intervals
SET stopped_at_us = ?2
WHERE session_key = ?1 AND closed_by = 'session_end' AND stopped_at_us <> ?2
