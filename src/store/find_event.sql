-- An event with this primary key is stored already.
SELECT 1 FROM events
WHERE session_key = ?1 AND participant_key = ?2 AND event_time_us = ?3 AND identity = ?4
