-- A participant's events. The interval rules apply to those not covered; the covered ones are
-- only counted. A token
-- exchange's tokens come as the fields a chain compares (capabilities as a set, userId,
-- attributes as a map, expiration as an instant), not as token rows: a token with an unknown
-- extra field is another row, yet the same link in the chain.
SELECT e.participant_key, e.name, e.event_time_us, e.remote_participant_id,
       e.destination_stage_arn, e.destination_session_id,
       CASE WHEN e.previous_token_key IS NOT NULL THEN
           (SELECT json_array(coalesce(t.capabilities, '[]'), t.user_id,
                              coalesce(t.attributes, '{}'), t.expiration_time_us)
            FROM tokens t WHERE t.token_key = e.previous_token_key)
       END,
       CASE WHEN e.new_token_key IS NOT NULL THEN
           (SELECT json_array(coalesce(t.capabilities, '[]'), t.user_id,
                              coalesce(t.attributes, '{}'), t.expiration_time_us)
            FROM tokens t WHERE t.token_key = e.new_token_key)
       END,
       e.identity, e.replica, e.covered, e.source = 'api', e.error_code
FROM events e
WHERE e.session_key = ?1 AND e.participant_key = ?2
ORDER BY e.event_time_us, e.identity
