-- name: daily
-- description: One row per UTC day (or day and stage): sessions, participants, minutes, join success, error and clean-session rates, with changes from the day before and the week before
-- Counts EventBridge events only for participants that have no ListParticipantEvents data
-- (the view reported_events).
-- parameters: :stage :session :since :until (sessions whose first event is in [since, until)),
-- :by (stage for one row per day and stage; NULL for one row per day)
-- by: stage
--
-- A session, with its participants and intervals, belongs to the UTC day of its first event.
-- dimension, value: 'stage' and the stage ARN with :by = stage; NULL otherwise (and stagelog
-- leaves them out). sessions: sessions with at least one reported event. participants:
-- (session, participant) pairs with at least one reported event. participant_minutes,
-- publish_minutes, subscribe_minutes: sums of connected / publishing / subscribed interval lengths
-- (open ones up to the session end). join_success_rate: participants with JOINED / participants
-- with JOINED or JOIN_ERROR. error_rate: (JOIN_ERROR + PUBLISH_ERROR + SUBSCRIBE_ERROR) /
-- (JOINED + JOIN_ERROR + PUBLISH_STARTED + PUBLISH_ERROR + SUBSCRIBE_STARTED + SUBSCRIBE_ERROR)
-- events, as in session-quality. clean_session_rate: sessions that session-quality calls clean
-- (at least one JOINED, no JOIN_ERROR, PUBLISH_ERROR or SUBSCRIBE_ERROR) / sessions.
-- d1_<name>: the value minus the previous day's; w1_<name>: minus the same weekday's a week
-- earlier (of the same stage with :by = stage); NULL when that day has no session, or when either
-- value is NULL. The compared days are whole UTC days and may lie before :since (so that
-- `--since yesterday` still compares with the day before); they honour :stage and :session. A
-- difference is taken between the rounded values shown, so it matches them.
-- Minutes are rounded to 3 decimals and rates to 4, on a scaled value (round(10000.0 * x) /
-- 10000.0), so a half rounds away from zero in every SQLite version. Ordered by day, then value.
WITH
scope AS (
    -- The sessions shown (first event in [since, until)) and those of the 7 whole days before
    -- the day of :since, for the comparisons; by the span of their reported events, which
    -- every import keeps in `sessions`.
    SELECT s.session_key, st.stage_arn, s.first_event_us AS first_us
    FROM sessions s
    JOIN stages st USING (stage_key)
    WHERE s.session_key IN (
        -- One session by its id (index sessions_by_id), or else the sessions whose first
        -- event is in the span (index sessions_by_first_event): an OR of the two, in the
        -- WHERE clause, would read every session.
        SELECT session_key FROM sessions WHERE session_id = :session
        UNION ALL
        SELECT session_key FROM sessions
        WHERE :session IS NULL
          AND first_event_us >= coalesce(:since - :since % 86400000000 - 7 * 86400000000,
                                         -9223372036854775807)
          AND first_event_us < coalesce(:until, 9223372036854775807)
    )
      AND s.first_event_us IS NOT NULL
      AND (:stage IS NULL OR st.stage_arn = :stage)
      AND s.first_event_us >= coalesce(:since - :since % 86400000000 - 7 * 86400000000,
                                       -9223372036854775807)
      AND s.first_event_us < coalesce(:until, 9223372036854775807)
),
per_participant AS (
    -- Counts over each participant's reported events, kept by every import in
    -- participant_counts.
    SELECT pc.session_key, pc.participant_key, pc.joins, pc.join_errors,
           pc.join_errors + pc.publish_errors + pc.subscribe_errors AS errors,
           pc.joins + pc.join_errors + pc.publishes + pc.publish_errors + pc.subscribes
               + pc.subscribe_errors AS attempts
    FROM participant_counts pc
    WHERE pc.session_key IN (SELECT session_key FROM scope)
),
durations AS (
    SELECT session_key,
           sum(CASE kind WHEN 'connected' THEN stopped_at_us - started_at_us END) AS connected_us,
           sum(CASE kind WHEN 'publishing' THEN stopped_at_us - started_at_us END) AS publish_us,
           sum(CASE kind WHEN 'subscribed' THEN stopped_at_us - started_at_us END) AS subscribe_us
    FROM intervals
    WHERE intervals.session_key IN (SELECT session_key FROM scope)
    GROUP BY session_key
),
per_session AS (
    SELECT sc.session_key,
           strftime('%Y-%m-%d', sc.first_us / 1000000, 'unixepoch') AS day,
           CASE WHEN :by = 'stage' THEN sc.stage_arn END AS value,
           (:since IS NULL OR sc.first_us >= :since) AS shown,
           count(*) AS participants,
           sum(pp.joins > 0) AS joined_participants,
           sum(pp.joins > 0 OR pp.join_errors > 0) AS join_attempters,
           sum(pp.errors) AS errors,
           sum(pp.attempts) AS attempts,
           sum(pp.joins) > 0 AND sum(pp.errors) = 0 AS clean,
           coalesce(d.connected_us, 0) AS connected_us,
           coalesce(d.publish_us, 0) AS publish_us,
           coalesce(d.subscribe_us, 0) AS subscribe_us
    FROM scope sc
    JOIN per_participant pp USING (session_key)
    LEFT JOIN durations d USING (session_key)
    GROUP BY sc.session_key
),
days AS (
    -- part 'shown': the rows of the report; part 'whole': every day of the scope, to compare with.
    SELECT part, day, value,
           count(*) AS sessions,
           sum(participants) AS participants,
           round(sum(connected_us) / 60000.0) / 1000.0 AS participant_minutes,
           round(sum(publish_us) / 60000.0) / 1000.0 AS publish_minutes,
           round(sum(subscribe_us) / 60000.0) / 1000.0 AS subscribe_minutes,
           round(10000.0 * sum(joined_participants) / nullif(sum(join_attempters), 0)) / 10000.0
               AS join_success_rate,
           round(10000.0 * sum(errors) / nullif(sum(attempts), 0)) / 10000.0 AS error_rate,
           round(10000.0 * sum(clean) / count(*)) / 10000.0 AS clean_session_rate
    FROM (SELECT 'shown' AS part, * FROM per_session WHERE shown
          UNION ALL
          SELECT 'whole' AS part, * FROM per_session)
    GROUP BY part, day, value
)
SELECT
    CASE WHEN :by = 'stage' THEN 'stage' END AS dimension,
    t.value,
    t.day,
    t.sessions,
    t.participants,
    t.participant_minutes,
    t.publish_minutes,
    t.subscribe_minutes,
    t.join_success_rate,
    t.error_rate,
    t.clean_session_rate,
    t.sessions - d.sessions AS d1_sessions,
    t.sessions - w.sessions AS w1_sessions,
    t.participants - d.participants AS d1_participants,
    t.participants - w.participants AS w1_participants,
    round(1000.0 * (t.participant_minutes - d.participant_minutes)) / 1000.0
        AS d1_participant_minutes,
    round(1000.0 * (t.participant_minutes - w.participant_minutes)) / 1000.0
        AS w1_participant_minutes,
    round(10000.0 * (t.join_success_rate - d.join_success_rate)) / 10000.0
        AS d1_join_success_rate,
    round(10000.0 * (t.join_success_rate - w.join_success_rate)) / 10000.0
        AS w1_join_success_rate,
    round(10000.0 * (t.error_rate - d.error_rate)) / 10000.0 AS d1_error_rate,
    round(10000.0 * (t.error_rate - w.error_rate)) / 10000.0 AS w1_error_rate,
    round(10000.0 * (t.clean_session_rate - d.clean_session_rate)) / 10000.0
        AS d1_clean_session_rate,
    round(10000.0 * (t.clean_session_rate - w.clean_session_rate)) / 10000.0
        AS w1_clean_session_rate
FROM days t
LEFT JOIN days d
    ON d.part = 'whole' AND d.day = date(t.day, '-1 day') AND d.value IS t.value
LEFT JOIN days w
    ON w.part = 'whole' AND w.day = date(t.day, '-7 days') AND w.value IS t.value
WHERE t.part = 'shown'
ORDER BY t.day, t.value;
