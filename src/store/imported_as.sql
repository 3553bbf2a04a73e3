SELECT path FROM imports WHERE content_sha256 = ?1 ORDER BY import_key LIMIT 1
