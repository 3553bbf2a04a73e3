INSERT INTO imports (path, content_sha256, format, imported_at_us, stagelog_version)
VALUES (:path, :content_sha256, :format, :imported_at_us, :stagelog_version)
