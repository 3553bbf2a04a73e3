-- A repeat is ignored whether it repeats the content (identity) or the EventBridge envelope id.
-- How the event applies is written as the interval rules will most likely derive it (?17 to
-- ?20, effect NULL: the usual one), so that deriving rewrites only the rows guessed wrong.
INSERT OR IGNORE INTO events (
    session_key, participant_key, name, event_time_us, remote_participant_id, error_code,
    destination_stage_arn, destination_session_id, replica, previous_token_key, new_token_key,
    raw_json, import_key, identity, source, eventbridge_id,
    seq, step, connected_delta, publishing_delta, effect)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
        ?17, ?18, ?19, ?20, NULL)
