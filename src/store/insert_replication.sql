INSERT INTO replications (session_key, participant_key, destination_stage_arn,
                          destination_session_id, started_at_us, stopped_at_us)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
