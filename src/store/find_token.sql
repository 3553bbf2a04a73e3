SELECT token_key FROM tokens WHERE identity = ?1
