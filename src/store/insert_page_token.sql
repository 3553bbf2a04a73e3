INSERT INTO page_tokens (import_key, list, next_token) VALUES (?1, ?2, ?3)
