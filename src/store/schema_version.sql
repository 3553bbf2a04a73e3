-- The migrations recorded as applied, by version; read as text and integers whatever the
-- columns hold, since another program's table of that name is checked with it too.
SELECT CAST(version AS INTEGER), CAST(name AS TEXT) FROM refinery_schema_history ORDER BY 1
