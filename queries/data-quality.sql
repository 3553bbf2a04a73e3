-- name: data-quality
-- description: What to know before trusting the numbers: orphan stops, ignored starts, open intervals, unknown values, rejects, EventBridge-only data, duplicates, warnings
-- parameters: :stage :session :since :until (sessions whose first event is in [since, until))
--
-- One row per check, always in this order and always present (count 0 and example NULL when
-- nothing was found). `example` is the alphabetically first `session_id/participant_id` (or
-- session id, or file path) the check found.
--   orphan_stops                    reported stop events that found nothing open (effect `orphan stop`)
--   ignored_duplicate_starts        reported start events ignored because their interval was open
--   intervals_closed_at_session_end connected / publishing / subscribed intervals that had no stop
--                                   and were closed at the session end
--   events_outside_session_record   reported events before the session record's startTime or after
--                                   its endTime (sessions with a record only)
--   unknown_event_names             reported events whose name IVS does not document
--   unknown_error_codes             reported events whose error code IVS does not document (an
--                                   empty code counts; a missing one does not)
--   rejected_records                records that could not be imported (example: path and position)
--   eventbridge_only_sessions       sessions whose reported events all come from EventBridge: no
--                                   join, leave or subscribe data (example: session id)
--   eventbridge_only_participants   participants whose reported events all come from EventBridge
--                                   (also those of the sessions above): their connected and
--                                   subscribed time is missing
--   covered_eventbridge_events      EventBridge events left out of the reports because the
--                                   participant has ListParticipantEvents data
--   duplicate_records_dropped       records skipped as already imported (example: a file path)
--   imports_with_warnings           imported files that printed warnings (example: a file path)
-- Event, interval, session and participant checks cover the sessions the filters choose, counting
-- only reported events (the view reported_events) except covered_eventbridge_events. The file
-- checks (rejected_records, duplicate_records_dropped, imports_with_warnings) cover every import
-- when no filter is given, and otherwise the imports that stored an event of a chosen session
-- (a rejected record names no session that could be filtered on).
WITH
chosen AS (
    -- Sessions by the span of their reported events, which every import keeps in `sessions`:
    -- the events of the sessions not chosen are never read.
    SELECT s.session_key, s.session_id
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
    -- Every participant's checks, kept by every import in participant_counts; only the events
    -- outside the session record are counted here, and only for participants whose first or last
    -- reported event lies outside it (their events read by the primary key).
    SELECT pc.session_key, pc.participant_key, pc.api_events AS api,
           pc.covered_events AS covered, pc.orphan_stops, pc.ignored_starts,
           pc.unknown_names, pc.unknown_error_codes AS unknown_codes,
           pc.closed_at_session_end AS closed_at_end,
           CASE WHEN pc.first_event_us < s.start_time_us OR pc.last_event_us > s.end_time_us
                THEN (SELECT count(*) FROM events e
                      WHERE e.session_key = pc.session_key
                        AND e.participant_key = pc.participant_key
                        AND e.covered = 0
                        AND (e.event_time_us < s.start_time_us
                             OR e.event_time_us > s.end_time_us))
                ELSE 0 END AS outside,
           c.session_id || '/' || p.participant_id AS who
    FROM participant_counts pc
    JOIN chosen c USING (session_key)
    JOIN sessions s USING (session_key)
    JOIN participants p USING (participant_key)
),
session_sources AS (
    -- Whether a session has any ListParticipantEvents data among its reported events.
    SELECT session_key, max(api > 0) AS has_api
    FROM per_participant
    GROUP BY session_key
),
considered_imports AS (
    SELECT i.import_key, i.path, i.records_duplicate, i.warnings
    FROM imports i
    WHERE (:stage IS NULL AND :session IS NULL AND :since IS NULL AND :until IS NULL)
       OR i.import_key IN (SELECT e.import_key FROM events e
                           WHERE e.session_key IN (SELECT session_key FROM chosen))
),
checks (ord, "check", count, example) AS (
    SELECT 1, 'orphan_stops', sum(orphan_stops), min(CASE WHEN orphan_stops > 0 THEN who END)
    FROM per_participant
    UNION ALL
    SELECT 2, 'ignored_duplicate_starts', sum(ignored_starts),
           min(CASE WHEN ignored_starts > 0 THEN who END)
    FROM per_participant
    UNION ALL
    SELECT 3, 'intervals_closed_at_session_end', sum(closed_at_end),
           min(CASE WHEN closed_at_end > 0 THEN who END)
    FROM per_participant
    UNION ALL
    SELECT 4, 'events_outside_session_record', sum(outside),
           min(CASE WHEN outside > 0 THEN who END)
    FROM per_participant
    UNION ALL
    SELECT 5, 'unknown_event_names', sum(unknown_names),
           min(CASE WHEN unknown_names > 0 THEN who END)
    FROM per_participant
    UNION ALL
    SELECT 6, 'unknown_error_codes', sum(unknown_codes),
           min(CASE WHEN unknown_codes > 0 THEN who END)
    FROM per_participant
    UNION ALL
    SELECT 7, 'rejected_records', count(*), min(i.path || ' ' || r.position)
    FROM rejects r
    JOIN considered_imports i USING (import_key)
    UNION ALL
    SELECT 8, 'eventbridge_only_sessions', count(*), min(session_id)
    FROM chosen JOIN session_sources USING (session_key) WHERE NOT has_api
    UNION ALL
    SELECT 9, 'eventbridge_only_participants', sum(api = 0),
           min(CASE WHEN api = 0 THEN who END)
    FROM per_participant
    UNION ALL
    SELECT 10, 'covered_eventbridge_events', sum(covered), min(CASE WHEN covered > 0 THEN who END)
    FROM per_participant
    UNION ALL
    SELECT 11, 'duplicate_records_dropped', sum(records_duplicate),
           min(CASE WHEN records_duplicate > 0 THEN path END)
    FROM considered_imports
    UNION ALL
    SELECT 12, 'imports_with_warnings', count(*), min(path)
    FROM considered_imports WHERE warnings > 0
)
SELECT "check", coalesce(count, 0) AS count, example
FROM checks
ORDER BY ord;
