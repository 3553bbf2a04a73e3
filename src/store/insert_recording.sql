INSERT OR IGNORE INTO recording_events (
    eventbridge_id, session_key, participant_id, event_name, event_time_us,
    recording_s3_bucket_name, recording_s3_key_prefix, raw_json, import_key)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
