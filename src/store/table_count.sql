SELECT count(*), count(*) FILTER (WHERE name = 'refinery_schema_history')
FROM sqlite_schema
WHERE type = 'table'
