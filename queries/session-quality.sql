-- name: session-quality
-- description: One row per session: when it ran, who joined, errors, and time connected, publishing and subscribed
-- Counts EventBridge events only for participants that have no ListParticipantEvents data
-- (the view reported_events).
-- parameters: :stage :session :since :until (sessions whose first event is in [since, until))
--
-- Counts are of events as stored (after dedupe); seconds come from the intervals stagelog derives
-- at import. Rates are NULL when their denominator is 0.
WITH
chosen AS (
    SELECT s.session_key, st.stage_arn, s.session_id,
           min(e.event_time_us) AS first_us, max(e.event_time_us) AS last_us
    FROM sessions s
    JOIN stages st USING (stage_key)
    JOIN reported_events e USING (session_key)
    WHERE (:stage IS NULL OR st.stage_arn = :stage)
      AND (:session IS NULL OR s.session_id = :session)
    GROUP BY s.session_key
    HAVING (:since IS NULL OR first_us >= :since) AND (:until IS NULL OR first_us < :until)
),
per_participant AS (
    SELECT e.session_key, e.participant_key,
           sum(e.name = 'JOINED') AS joins,
           sum(e.name = 'JOIN_ERROR') AS join_errors,
           sum(e.name = 'PUBLISH_STARTED') AS publishes,
           sum(e.name = 'PUBLISH_ERROR') AS publish_errors,
           sum(e.name = 'SUBSCRIBE_STARTED') AS subscribes,
           sum(e.name = 'SUBSCRIBE_ERROR') AS subscribe_errors,
           min(CASE WHEN e.name = 'JOINED' THEN e.event_time_us END) AS first_join_us,
           min(CASE WHEN e.name = 'PUBLISH_STARTED' THEN e.event_time_us END) AS first_publish_us
    FROM reported_events e
    JOIN chosen USING (session_key)
    GROUP BY e.session_key, e.participant_key
),
per_session AS (
    SELECT session_key,
           count(*) AS participants,
           sum(joins > 0) AS joined_participants,
           sum(joins > 0 OR join_errors > 0) AS join_attempters,
           sum(joins) AS joins,
           sum(join_errors) AS join_errors,
           sum(publishes > 0) AS publishers,
           sum(publish_errors) AS publish_errors,
           sum(subscribe_errors) AS subscribe_errors,
           sum(joins + join_errors + publishes + publish_errors + subscribes + subscribe_errors)
               AS attempts
    FROM per_participant
    GROUP BY session_key
),
time_to_publish AS (
    SELECT session_key,
           first_publish_us - first_join_us AS us,
           row_number() OVER (PARTITION BY session_key
                              ORDER BY first_publish_us - first_join_us) AS k,
           count(*) OVER (PARTITION BY session_key) AS n
    FROM per_participant
    WHERE first_join_us <= first_publish_us
),
median_time_to_publish AS (
    -- The middle value, or the mean of the middle two.
    SELECT session_key, avg(us) AS us
    FROM time_to_publish
    WHERE k IN ((n + 1) / 2, (n + 2) / 2)
    GROUP BY session_key
),
durations AS (
    SELECT session_key,
           sum(CASE kind WHEN 'connected' THEN stopped_at_us - started_at_us END) AS connected_us,
           sum(CASE kind WHEN 'publishing' THEN stopped_at_us - started_at_us END) AS publish_us,
           sum(CASE kind WHEN 'subscribed' THEN stopped_at_us - started_at_us END) AS subscribe_us
    FROM intervals
    JOIN chosen USING (session_key)
    GROUP BY session_key
)
SELECT
    c.stage_arn,
    c.session_id,
    strftime('%Y-%m-%dT%H:%M:%S', c.first_us / 1000000, 'unixepoch')
        || printf('.%03dZ', c.first_us / 1000 % 1000) AS started_at,
    strftime('%Y-%m-%dT%H:%M:%S', c.last_us / 1000000, 'unixepoch')
        || printf('.%03dZ', c.last_us / 1000 % 1000) AS ended_at,
    round((c.last_us - c.first_us) / 1e6, 3) AS duration_s,
    p.participants,
    p.joined_participants,
    p.join_errors,
    round(1.0 * p.joined_participants / nullif(p.join_attempters, 0), 4) AS join_success_rate,
    p.joins - p.joined_participants AS reconnects,
    p.publishers,
    p.publish_errors,
    p.subscribe_errors,
    round(coalesce(d.connected_us, 0) / 1e6, 3) AS connected_seconds,
    round(coalesce(d.publish_us, 0) / 1e6, 3) AS publish_seconds,
    round(coalesce(d.subscribe_us, 0) / 1e6, 3) AS subscribe_seconds,
    round(m.us / 1e6, 3) AS median_time_to_publish_s,
    round(1.0 * (p.join_errors + p.publish_errors + p.subscribe_errors)
          / nullif(p.attempts, 0), 4) AS error_rate
FROM chosen c
JOIN per_session p USING (session_key)
LEFT JOIN durations d USING (session_key)
LEFT JOIN median_time_to_publish m USING (session_key)
ORDER BY c.first_us, c.stage_arn, c.session_id;
