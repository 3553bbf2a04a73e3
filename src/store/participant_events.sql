-- The events the interval rules apply to: covered EventBridge events are left out.
SELECT event_key, participant_key, name, event_time_us, remote_participant_id,
       destination_stage_arn, destination_session_id, previous_token_key, new_token_key, identity
FROM events
WHERE session_key = ?1 AND participant_key = ?2 AND covered = 0
