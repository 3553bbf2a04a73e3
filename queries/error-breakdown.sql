-- name: error-breakdown
-- description: Errors by event name and error code: how many, for how many participants and sessions, and when
-- Counts EventBridge events only for participants that have no ListParticipantEvents data
-- (the view reported_events).
-- parameters: :stage :session :since :until (error events whose time is in [since, until)),
-- :by (sdk|os|browser|isp|protocol|stage|day|hour, or NULL for no grouping)
-- by: sdk os browser isp protocol stage day hour
--
-- A missing error code is its own (NULL) group. share = errors / all error events selected
-- (over every group, so the shares of all rows add up to 1). Rates are rounded to 4 decimals on
-- a scaled value (round(10000.0 * x) / 10000.0), so a half rounds away from zero in every SQLite
-- version.
--
-- With :by, the rows are split further by `value`: sdk = sdk_version, os = os_name, browser =
-- browser_name, isp = isp_name, protocol = protocol (all from the participant's record, NULL
-- without one: its own group), stage = stage_arn, day = the UTC date of the error event
-- (YYYY-MM-DD), hour = its UTC hour (YYYY-MM-DDTHH:00Z). `dimension` repeats :by; without :by
-- both columns are NULL (and stagelog leaves them out). Rows are ordered by value (NULL first,
-- as SQLite sorts), then errors descending, event name, error code.
WITH
in_window AS (
    -- Sessions whose reported events reach into [since, until), by the span that every import
    -- keeps in `sessions`: only their events are read.
    SELECT s.session_key, st.stage_arn
    FROM sessions s
    JOIN stages st USING (stage_key)
    WHERE s.session_key IN (
        -- One session by its id (index sessions_by_id), or else the sessions that begin
        -- before :until (index sessions_by_first_event): an OR of the two, in the WHERE
        -- clause, would read every session.
        SELECT session_key FROM sessions WHERE session_id = :session
        UNION ALL
        SELECT session_key FROM sessions
        WHERE :session IS NULL AND first_event_us < coalesce(:until, 9223372036854775807)
    )
      AND s.first_event_us IS NOT NULL
      AND (:stage IS NULL OR st.stage_arn = :stage)
      AND (:since IS NULL OR s.last_event_us >= :since)
      AND s.first_event_us < coalesce(:until, 9223372036854775807)
),
errors AS (
    SELECT e.name, e.error_code, e.session_key, e.participant_key, e.event_time_us,
           CASE :by
               WHEN 'sdk' THEN p.sdk_version
               WHEN 'os' THEN p.os_name
               WHEN 'browser' THEN p.browser_name
               WHEN 'isp' THEN p.isp_name
               WHEN 'protocol' THEN p.protocol
               WHEN 'stage' THEN w.stage_arn
               WHEN 'day' THEN strftime('%Y-%m-%d', e.event_time_us / 1000000, 'unixepoch')
               WHEN 'hour' THEN strftime('%Y-%m-%dT%H:00Z', e.event_time_us / 1000000, 'unixepoch')
           END AS value
    FROM in_window w
    CROSS JOIN reported_events e USING (session_key)
    JOIN participants p USING (participant_key)
    WHERE e.name IN ('JOIN_ERROR', 'PUBLISH_ERROR', 'SUBSCRIBE_ERROR')
      AND (:since IS NULL OR e.event_time_us >= :since)
      AND (:until IS NULL OR e.event_time_us < :until)
)
SELECT
    :by AS dimension,
    value,
    name AS event_name,
    error_code,
    count(*) AS errors,
    -- participant_key is already one (session, participant) pair.
    count(DISTINCT participant_key) AS participants,
    count(DISTINCT session_key) AS sessions,
    round(10000.0 * count(*) / (SELECT count(*) FROM errors)) / 10000.0 AS share,
    strftime('%Y-%m-%dT%H:%M:%S', min(event_time_us) / 1000000, 'unixepoch')
        || printf('.%03dZ', min(event_time_us) / 1000 % 1000) AS first_seen,
    strftime('%Y-%m-%dT%H:%M:%S', max(event_time_us) / 1000000, 'unixepoch')
        || printf('.%03dZ', max(event_time_us) / 1000 % 1000) AS last_seen
FROM errors
GROUP BY value, name, error_code
ORDER BY value, errors DESC, event_name, error_code;
