-- Another file's page of the same list with this nextToken (files of the same content are
-- skipped before this).
SELECT i.path
FROM page_tokens t
JOIN imports i USING (import_key)
WHERE t.next_token = ?1 AND t.list = ?2 AND t.import_key <> ?3 AND i.content_sha256 <> ?4
ORDER BY t.import_key
LIMIT 1
