-- Everything in the schema (tables, views, indexes, triggers; not SQLite's own objects), and
-- whether refinery's history table is among it.
SELECT count(*), count(*) FILTER (WHERE type = 'table' AND name = 'refinery_schema_history')
FROM sqlite_schema
WHERE name NOT LIKE 'sqlite~_%' ESCAPE '~'
