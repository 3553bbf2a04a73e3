-- name: error-breakdown
-- description: Errors by event name and error code: how many, for how many participants and sessions, and when
-- Counts EventBridge events only for participants that have no ListParticipantEvents data
-- (the view reported_events).
-- parameters: :stage :session :since :until (error events whose time is in [since, until))
--
-- A missing error code is its own (NULL) group. share = errors / all error events selected.
WITH errors AS (
    SELECT e.name, e.error_code, e.session_key, e.participant_key, e.event_time_us
    FROM reported_events e
    JOIN sessions s USING (session_key)
    JOIN stages st USING (stage_key)
    WHERE e.name IN ('JOIN_ERROR', 'PUBLISH_ERROR', 'SUBSCRIBE_ERROR')
      AND (:stage IS NULL OR st.stage_arn = :stage)
      AND (:session IS NULL OR s.session_id = :session)
      AND (:since IS NULL OR e.event_time_us >= :since)
      AND (:until IS NULL OR e.event_time_us < :until)
)
SELECT
    name AS event_name,
    error_code,
    count(*) AS errors,
    -- participant_key is already one (session, participant) pair.
    count(DISTINCT participant_key) AS participants,
    count(DISTINCT session_key) AS sessions,
    round(1.0 * count(*) / (SELECT count(*) FROM errors), 4) AS share,
    strftime('%Y-%m-%dT%H:%M:%S', min(event_time_us) / 1000000, 'unixepoch')
        || printf('.%03dZ', min(event_time_us) / 1000 % 1000) AS first_seen,
    strftime('%Y-%m-%dT%H:%M:%S', max(event_time_us) / 1000000, 'unixepoch')
        || printf('.%03dZ', max(event_time_us) / 1000 % 1000) AS last_seen
FROM errors
GROUP BY name, error_code
ORDER BY errors DESC, event_name, error_code;
