-- name: participants
-- description: One row per participant of a session: who (user, replica, client), when, time connected, publishing and subscribed, reconnects and errors
-- Counts EventBridge events only for participants that have no ListParticipantEvents data
-- (the view reported_events).
-- parameters: :stage :session :since :until (sessions whose first event is in [since, until))
--
-- A participant is listed when it has at least one reported event in the session (as
-- session-quality counts `participants`); one named only by a participant record is not.
-- user_id, os_name, browser_name, sdk_version, isp_name and protocol come from the participant
-- (its records, or the user id an EventBridge event gave); NULL when nothing told them.
-- replica: 1 when any of the participant's non-subscribe events says replica (on subscribe events
-- the flag describes the remote participant) or its record says replicationType REPLICA, else 0.
-- first_joined_at: its first JOINED (NULL without one); last_event_at: its last reported event.
-- connected_seconds, publish_seconds, subscribe_seconds: sums of its interval lengths (intervals
-- still open at the end count up to the session end), 0 without any.
-- reconnects: JOINED count - 1 when it has at least one JOINED, else 0.
-- join_errors, publish_errors, subscribe_errors: JOIN_ERROR, PUBLISH_ERROR, SUBSCRIBE_ERROR counts.
-- Seconds are rounded to 3 decimals on a scaled value (round(us / 1000.0) / 1000.0), so a half
-- rounds away from zero in every SQLite version. Ordered by stage, session, participant id.
WITH
chosen AS (
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
),
per_participant AS (
    -- Counts over each participant's reported events, kept by every import in
    -- participant_counts.
    SELECT pc.session_key, pc.participant_key, pc.first_event_us AS first_us, pc.joins,
           pc.join_errors, pc.publish_errors, pc.subscribe_errors,
           pc.replica_events > 0 AS replica_event, pc.first_join_us, pc.last_event_us
    FROM participant_counts pc
    WHERE pc.session_key IN (SELECT session_key FROM chosen)
),
durations AS (
    -- Grouped by session too (a participant is in one session): the index on intervals then
    -- yields each participant's rows together, with no sort.
    SELECT session_key, participant_key,
           sum(CASE kind WHEN 'connected' THEN stopped_at_us - started_at_us END) AS connected_us,
           sum(CASE kind WHEN 'publishing' THEN stopped_at_us - started_at_us END) AS publish_us,
           sum(CASE kind WHEN 'subscribed' THEN stopped_at_us - started_at_us END) AS subscribe_us
    FROM intervals
    WHERE intervals.session_key IN (SELECT session_key FROM chosen)
    GROUP BY session_key, participant_key
)
SELECT
    c.stage_arn,
    c.session_id,
    p.participant_id,
    p.user_id,
    CASE WHEN pp.replica_event OR p.replication_type = 'REPLICA' THEN 1 ELSE 0 END AS replica,
    p.os_name,
    p.browser_name,
    p.sdk_version,
    p.isp_name,
    p.protocol,
    strftime('%Y-%m-%dT%H:%M:%S', pp.first_join_us / 1000000, 'unixepoch')
        || printf('.%03dZ', pp.first_join_us / 1000 % 1000) AS first_joined_at,
    strftime('%Y-%m-%dT%H:%M:%S', pp.last_event_us / 1000000, 'unixepoch')
        || printf('.%03dZ', pp.last_event_us / 1000 % 1000) AS last_event_at,
    round(coalesce(d.connected_us, 0) / 1000.0) / 1000.0 AS connected_seconds,
    round(coalesce(d.publish_us, 0) / 1000.0) / 1000.0 AS publish_seconds,
    round(coalesce(d.subscribe_us, 0) / 1000.0) / 1000.0 AS subscribe_seconds,
    max(pp.joins - 1, 0) AS reconnects,
    pp.join_errors,
    pp.publish_errors,
    pp.subscribe_errors
FROM per_participant pp
JOIN chosen c USING (session_key)
JOIN participants p USING (participant_key)
LEFT JOIN durations d USING (session_key, participant_key)
ORDER BY c.stage_arn, c.session_id, p.participant_id;
