DELETE FROM intervals WHERE session_key = ?1 AND participant_key = ?2
