DELETE FROM intervals WHERE session_key = ?1
