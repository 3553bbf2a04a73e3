-- name: replication-graph
-- description: One row per source and destination stage: participants replicated, replications, replica minutes, open replications and orphan stops
-- Counts EventBridge events only for participants that have no ListParticipantEvents data
-- (the view reported_events).
-- parameters: :stage :session :since :until (source sessions whose first event is in
-- [since, until); :stage and :session name the source)
--
-- The source stage is the stage of the session whose participant has the REPLICATION_STARTED /
-- _STOPPED events; the destination stage is the events' destinationStageArn (NULL when they
-- carry none: its own row). A pair is listed when any replication event links it.
-- participants: (session, participant) pairs with at least one replication interval to the
-- destination. replications: replication intervals (the rows the replications report lists;
-- a start while that destination is already replicating is ignored, as the interval rules say).
-- replica_minutes: the intervals' lengths, in minutes, with an open interval counted up to its
-- session's end (the later of the session's last reported event and its recorded end), as open
-- connected and publishing intervals are; open_replications says how many of them were open.
-- orphan_stops: REPLICATION_STOPPED events that found no open replication to that destination.
-- Minutes are rounded to 3 decimals on a scaled value (round(us / 60000.0) / 1000.0), so a half
-- rounds away from zero in every SQLite version. Ordered by source, then destination (NULL first,
-- as SQLite sorts).
WITH
chosen AS (
    -- Sessions by the span of their reported events, which every import keeps in `sessions`:
    -- the events of the sessions not chosen are never read.
    SELECT s.session_key, st.stage_arn,
           max(s.last_event_us, coalesce(s.end_time_us, 0)) AS end_us
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
links AS (
    SELECT c.stage_arn AS source_stage_arn, r.destination_stage_arn,
           r.participant_key,
           1 AS replication,
           coalesce(r.stopped_at_us, c.end_us) - r.started_at_us AS us,
           r.stopped_at_us IS NULL AS open,
           0 AS orphan_stop
    FROM chosen c
    CROSS JOIN replications r USING (session_key)
    UNION ALL
    SELECT c.stage_arn, e.destination_stage_arn,
           NULL, 0, 0, 0, 1
    FROM chosen c
    CROSS JOIN reported_events e USING (session_key)
    WHERE e.name = 'REPLICATION_STOPPED' AND e.effect = 'orphan stop'
)
SELECT
    source_stage_arn,
    destination_stage_arn,
    count(DISTINCT participant_key) AS participants,
    sum(replication) AS replications,
    round(sum(us) / 60000.0) / 1000.0 AS replica_minutes,
    sum(open) AS open_replications,
    sum(orphan_stop) AS orphan_stops
FROM links
GROUP BY source_stage_arn, destination_stage_arn
ORDER BY source_stage_arn, destination_stage_arn;
