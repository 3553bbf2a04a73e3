SELECT session_key FROM sessions WHERE stage_key = ?1 AND session_id = ?2
