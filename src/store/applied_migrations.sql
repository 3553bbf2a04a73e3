SELECT version, name, applied_on FROM refinery_schema_history ORDER BY version
