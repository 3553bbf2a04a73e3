-- name: session-quality
-- description: One row per session: when it ran, who joined, errors, and time connected, publishing and subscribed
-- Counts EventBridge events only for participants that have no ListParticipantEvents data
-- (the view reported_events).
-- parameters: :stage :session :since :until (sessions whose first event is in [since, until))
--
-- Counts are of events as stored (after dedupe); seconds come from the intervals stagelog derives
-- at import. Rates are NULL when their denominator is 0. Seconds are rounded to 3 decimals and
-- rates to 4 on a scaled value (round(us / 1000.0) / 1000.0), so that a half rounds away from
-- zero in every SQLite version (round(x, 3) on a double rounds 1.3335 differently in 3.40 and
-- in newer versions).
--
-- publish_success_rate: participants with PUBLISH_STARTED / participants with PUBLISH_STARTED or
-- PUBLISH_ERROR. subscribe_success_rate: the same over (subscriber, publisher) pairs, the
-- publisher being remote_participant_id (events without one form one pair with each other).
-- peak_participants / peak_publishers: the most connected / publishing intervals, taken as
-- [start, end), that share one instant; zero-length intervals never count and an interval ending
-- at the instant another starts does not overlap it (a sweep that takes ends before starts);
-- 0 when the session has no such interval; every import keeps them in `sessions`.
-- p90_time_to_publish_s: the nearest-rank 90th percentile (the ceil(0.9 n)-th smallest) of the
-- values median_time_to_publish_s takes the median of. median_time_to_subscribe_s: per
-- participant, first SUBSCRIBE_STARTED - first JOINED where the JOINED is not later; the median
-- as for publishing. clean: 1 when the session has at least one JOINED and no JOIN_ERROR,
-- PUBLISH_ERROR or SUBSCRIBE_ERROR, else 0.
WITH
chosen AS (
    -- Sessions by the span of their reported events, which every import keeps in `sessions`:
    -- the events of the sessions not chosen are never read.
    SELECT s.session_key, st.stage_arn, s.session_id,
           s.first_event_us AS first_us, s.last_event_us AS last_us,
           s.peak_participants, s.peak_publishers
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
    SELECT pc.session_key, pc.participant_key, pc.joins, pc.join_errors, pc.publishes,
           pc.publish_errors, pc.subscribes, pc.subscribe_errors, pc.first_join_us,
           pc.first_publish_us, pc.first_subscribe_us, pc.subscribed_pairs, pc.subscribe_pairs
    FROM participant_counts pc
    WHERE pc.session_key IN (SELECT session_key FROM chosen)
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
               AS attempts,
           sum(publishes > 0 OR publish_errors > 0) AS publish_attempters,
           sum(subscribed_pairs) AS subscribed_pairs,
           sum(subscribe_pairs) AS subscribe_pairs
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
p90_time_to_publish AS (
    -- Nearest rank: the ceil(0.9 n)-th smallest, in integer arithmetic.
    SELECT session_key, us
    FROM time_to_publish
    WHERE k = (9 * n + 9) / 10
),
time_to_subscribe AS (
    SELECT session_key,
           first_subscribe_us - first_join_us AS us,
           row_number() OVER (PARTITION BY session_key
                              ORDER BY first_subscribe_us - first_join_us) AS k,
           count(*) OVER (PARTITION BY session_key) AS n
    FROM per_participant
    WHERE first_join_us <= first_subscribe_us
),
median_time_to_subscribe AS (
    SELECT session_key, avg(us) AS us
    FROM time_to_subscribe
    WHERE k IN ((n + 1) / 2, (n + 2) / 2)
    GROUP BY session_key
),
durations AS (
    SELECT session_key,
           sum(CASE kind WHEN 'connected' THEN stopped_at_us - started_at_us END) AS connected_us,
           sum(CASE kind WHEN 'publishing' THEN stopped_at_us - started_at_us END) AS publish_us,
           sum(CASE kind WHEN 'subscribed' THEN stopped_at_us - started_at_us END) AS subscribe_us
    FROM intervals
    WHERE intervals.session_key IN (SELECT session_key FROM chosen)
    GROUP BY session_key
)
SELECT
    c.stage_arn,
    c.session_id,
    strftime('%Y-%m-%dT%H:%M:%S', c.first_us / 1000000, 'unixepoch')
        || printf('.%03dZ', c.first_us / 1000 % 1000) AS started_at,
    strftime('%Y-%m-%dT%H:%M:%S', c.last_us / 1000000, 'unixepoch')
        || printf('.%03dZ', c.last_us / 1000 % 1000) AS ended_at,
    round((c.last_us - c.first_us) / 1000.0) / 1000.0 AS duration_s,
    p.participants,
    p.joined_participants,
    p.join_errors,
    round(10000.0 * p.joined_participants / nullif(p.join_attempters, 0)) / 10000.0
        AS join_success_rate,
    p.joins - p.joined_participants AS reconnects,
    p.publishers,
    p.publish_errors,
    p.subscribe_errors,
    round(coalesce(d.connected_us, 0) / 1000.0) / 1000.0 AS connected_seconds,
    round(coalesce(d.publish_us, 0) / 1000.0) / 1000.0 AS publish_seconds,
    round(coalesce(d.subscribe_us, 0) / 1000.0) / 1000.0 AS subscribe_seconds,
    round(m.us / 1000.0) / 1000.0 AS median_time_to_publish_s,
    round(10000.0 * (p.join_errors + p.publish_errors + p.subscribe_errors)
          / nullif(p.attempts, 0)) / 10000.0 AS error_rate,
    round(10000.0 * p.publishers / nullif(p.publish_attempters, 0)) / 10000.0
        AS publish_success_rate,
    round(10000.0 * p.subscribed_pairs / nullif(p.subscribe_pairs, 0)) / 10000.0
        AS subscribe_success_rate,
    c.peak_participants,
    c.peak_publishers,
    round(p90.us / 1000.0) / 1000.0 AS p90_time_to_publish_s,
    round(ms.us / 1000.0) / 1000.0 AS median_time_to_subscribe_s,
    CASE WHEN p.joins > 0 AND p.join_errors + p.publish_errors + p.subscribe_errors = 0
         THEN 1 ELSE 0 END AS clean
FROM chosen c
JOIN per_session p USING (session_key)
LEFT JOIN durations d USING (session_key)
LEFT JOIN median_time_to_publish m USING (session_key)
LEFT JOIN p90_time_to_publish p90 USING (session_key)
LEFT JOIN median_time_to_subscribe ms USING (session_key)
ORDER BY c.first_us, c.stage_arn, c.session_id;
