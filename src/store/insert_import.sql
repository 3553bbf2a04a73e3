-- The format and counts are filled in when the file's import commits.
INSERT INTO imports (path, content_sha256, context, format, imported_at_us, stagelog_version)
VALUES (:path, :content_sha256, :context, '', :imported_at_us, :stagelog_version)
