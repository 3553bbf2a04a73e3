-- name: replications
-- description: One row per replication interval (REPLICATION_STARTED to REPLICATION_STOPPED, per destination)
-- Counts EventBridge events only for participants that have no ListParticipantEvents data
-- (the view reported_events).
-- parameters: :stage :session :since :until (sessions whose first event is in [since, until))
--
-- stopped_at and duration_s are NULL while the replication is open.
WITH chosen AS (
    -- Sessions by the span of their reported events, which every import keeps in `sessions`:
    -- the events of the sessions not chosen are never read.
    SELECT s.session_key, st.stage_arn, s.session_id
    FROM sessions s
    JOIN stages st USING (stage_key)
    WHERE s.session_key IN (
        -- One session by its id (index sessions_by_id), or else the sessions whose first
        -- event is in the window (index sessions_by_first_event): an OR of the two, in the
        -- WHERE clause, would read every session.
        SELECT session_key FROM sessions WHERE session_id = :session
        UNION ALL
        SELECT session_key FROM sessions
        WHERE :session IS NULL
          AND first_event_us >= coalesce(:since, -9223372036854775807)
          AND first_event_us < coalesce(:until, 9223372036854775807)
    )
      AND s.first_event_us IS NOT NULL
      AND (:stage IS NULL OR st.stage_arn = :stage)
      AND s.first_event_us >= coalesce(:since, -9223372036854775807)
      AND s.first_event_us < coalesce(:until, 9223372036854775807)
)
SELECT
    c.stage_arn,
    c.session_id,
    p.participant_id,
    r.destination_stage_arn,
    r.destination_session_id,
    strftime('%Y-%m-%dT%H:%M:%S', r.started_at_us / 1000000, 'unixepoch')
        || printf('.%03dZ', r.started_at_us / 1000 % 1000) AS started_at,
    strftime('%Y-%m-%dT%H:%M:%S', r.stopped_at_us / 1000000, 'unixepoch')
        || printf('.%03dZ', r.stopped_at_us / 1000 % 1000) AS stopped_at,
    round((r.stopped_at_us - r.started_at_us) / 1000.0) / 1000.0 AS duration_s
FROM chosen c
CROSS JOIN replications r USING (session_key)
JOIN participants p USING (participant_key)
ORDER BY c.stage_arn, c.session_id, p.participant_id, r.started_at_us,
         r.destination_stage_arn, r.destination_session_id;
