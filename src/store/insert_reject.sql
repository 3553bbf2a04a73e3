INSERT INTO rejects (import_key, position, reason, raw) VALUES (?1, ?2, ?3, ?4)
