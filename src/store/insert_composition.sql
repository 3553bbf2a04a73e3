INSERT OR IGNORE INTO composition_events (
    eventbridge_id, composition_arn, stage_key, session_id, event_name, event_time_us, raw_json,
    import_key)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
