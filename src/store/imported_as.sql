SELECT path FROM imports WHERE content_sha256 = ?1 AND context = ?2 ORDER BY import_key LIMIT 1
