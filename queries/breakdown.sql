-- name: breakdown
-- description: Participants, join and publish success, errors and connected minutes by SDK, OS, browser, ISP, protocol, stage, day or hour
-- Counts EventBridge events only for participants that have no ListParticipantEvents data
-- (the view reported_events).
-- parameters: :stage :session :since :until (sessions whose first event is in [since, until)),
-- :by (sdk|os|browser|isp|protocol|stage|day|hour; NULL means day)
-- by: sdk os browser isp protocol stage day hour
-- default-by: day
--
-- One row per value of the dimension; `dimension` names the one used. Each participant of a
-- session (with at least one reported event) falls in one group: sdk = sdk_version, os =
-- os_name, browser = browser_name, isp = isp_name, protocol = protocol (all from its participant
-- record; NULL without one, which is a group of its own), stage = stage_arn, day = the UTC date of
-- its session's first event (YYYY-MM-DD), hour = that event's UTC hour (YYYY-MM-DDTHH:00Z), so a
-- session never splits across days or hours.
-- participants: (session, participant) pairs. join_success_rate: participants with JOINED /
-- participants with JOINED or JOIN_ERROR; publish_success_rate: participants with
-- PUBLISH_STARTED / participants with PUBLISH_STARTED or PUBLISH_ERROR (NULL when the denominator
-- is 0). join_errors, publish_errors, subscribe_errors: event counts. connected_minutes: the sum
-- of the participants' connected intervals (open ones up to the session end), in minutes.
-- Minutes are rounded to 3 decimals and rates to 4, on a scaled value (round(10000.0 * x) /
-- 10000.0), so a half rounds away from zero in every SQLite version. Rows are ordered by value
-- (NULL first, as SQLite sorts).
WITH
chosen AS (
    -- Sessions by the span of their reported events, which every import keeps in `sessions`:
    -- the events of the sessions not chosen are never read.
    SELECT s.session_key, st.stage_arn, s.first_event_us AS first_us
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
           pc.publish_errors, pc.subscribe_errors
    FROM participant_counts pc
    WHERE pc.session_key IN (SELECT session_key FROM chosen)
),
connected AS (
    -- Grouped by session too (a participant is in one session): the index on intervals then
    -- yields each participant's rows together, with no sort.
    SELECT session_key, participant_key, sum(stopped_at_us - started_at_us) AS us
    FROM intervals
    WHERE intervals.session_key IN (SELECT session_key FROM chosen)
      AND kind = 'connected'
    GROUP BY session_key, participant_key
),
grouped AS (
    SELECT pp.*,
           coalesce(cn.us, 0) AS connected_us,
           CASE coalesce(:by, 'day')
               WHEN 'sdk' THEN p.sdk_version
               WHEN 'os' THEN p.os_name
               WHEN 'browser' THEN p.browser_name
               WHEN 'isp' THEN p.isp_name
               WHEN 'protocol' THEN p.protocol
               WHEN 'stage' THEN c.stage_arn
               WHEN 'day' THEN strftime('%Y-%m-%d', c.first_us / 1000000, 'unixepoch')
               WHEN 'hour' THEN strftime('%Y-%m-%dT%H:00Z', c.first_us / 1000000, 'unixepoch')
           END AS value
    FROM per_participant pp
    JOIN chosen c USING (session_key)
    JOIN participants p USING (participant_key)
    LEFT JOIN connected cn USING (session_key, participant_key)
)
SELECT
    coalesce(:by, 'day') AS dimension,
    value,
    count(*) AS participants,
    round(10000.0 * sum(joins > 0) / nullif(sum(joins > 0 OR join_errors > 0), 0)) / 10000.0
        AS join_success_rate,
    round(10000.0 * sum(publishes > 0) / nullif(sum(publishes > 0 OR publish_errors > 0), 0))
        / 10000.0 AS publish_success_rate,
    sum(join_errors) AS join_errors,
    sum(publish_errors) AS publish_errors,
    sum(subscribe_errors) AS subscribe_errors,
    round(sum(connected_us) / 60000.0) / 1000.0 AS connected_minutes
FROM grouped
GROUP BY value
ORDER BY value;
