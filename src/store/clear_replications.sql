DELETE FROM replications WHERE session_key = ?1
