-- name: timeline
-- description: Every event of one session in the order the interval rules apply them, with what each did and how many are connected and publishing after it
-- Counts EventBridge events only for participants that have no ListParticipantEvents data
-- (the view reported_events).
-- parameters: :session (required) :participant :stage :since :until (the session is listed when
-- its first event is in [since, until))
-- requires: session
--
-- Listing order: event time, then the step of the instant that applied the event (1 stops of
-- open intervals, 2 starts, errors and token exchanges, 3 stops of what step 2 opened, orphan
-- stops and unknown names), then the name's rank (JOIN_ERROR, JOINED, TOKEN_EXCHANGED,
-- PUBLISH_ERROR, PUBLISH_STARTED, SUBSCRIBE_ERROR, SUBSCRIBE_STARTED, REPLICATION_STARTED,
-- REPLICATION_STOPPED, SUBSCRIBE_STOPPED, PUBLISH_STOPPED, LEFT, unknown), then participant id,
-- then the participant's own applied order.
-- effect: what applying the event did (`opens publishing`, `closes connected, publishing`,
-- `ignored start`, `orphan stop`, `error`, `token exchanged`, `unknown event`).
-- connected_now, publishing_now: open connections / publishing intervals in the whole session
-- after the event, counted over every participant even when :participant shows only one.
-- A session id that two stages share lists both sessions, each with its own counts, stage by
-- stage (give :stage to pick one).
WITH
chosen AS (
    -- Sessions by the span of their reported events, which every import keeps in `sessions`:
    -- the events of the sessions not chosen are never read.
    SELECT s.session_key, st.stage_arn
    FROM sessions s
    JOIN stages st USING (stage_key)
    WHERE s.first_event_us IS NOT NULL
      AND s.session_id = :session
      AND (:stage IS NULL OR st.stage_arn = :stage)
      AND s.first_event_us >= coalesce(:since, -9223372036854775807)
      AND s.first_event_us < coalesce(:until, 9223372036854775807)
),
listed AS (
    SELECT c.stage_arn, p.participant_id, e.event_time_us, e.step, e.seq, e.name,
           e.remote_participant_id, e.error_code, e.effect,
           CASE e.name
               WHEN 'JOIN_ERROR' THEN 0
               WHEN 'JOINED' THEN 1
               WHEN 'TOKEN_EXCHANGED' THEN 2
               WHEN 'PUBLISH_ERROR' THEN 3
               WHEN 'PUBLISH_STARTED' THEN 4
               WHEN 'SUBSCRIBE_ERROR' THEN 5
               WHEN 'SUBSCRIBE_STARTED' THEN 6
               WHEN 'REPLICATION_STARTED' THEN 7
               WHEN 'REPLICATION_STOPPED' THEN 8
               WHEN 'SUBSCRIBE_STOPPED' THEN 9
               WHEN 'PUBLISH_STOPPED' THEN 10
               WHEN 'LEFT' THEN 11
               ELSE 12
           END AS rank,
           e.connected_delta, e.publishing_delta
    FROM chosen c
    CROSS JOIN reported_events e USING (session_key)
    JOIN participants p USING (participant_key)
),
running AS (
    SELECT l.*,
           sum(connected_delta) OVER w AS connected_now,
           sum(publishing_delta) OVER w AS publishing_now
    FROM listed l
    WINDOW w AS (PARTITION BY stage_arn
                 ORDER BY event_time_us, step, rank, participant_id, seq
                 ROWS UNBOUNDED PRECEDING)
)
SELECT
    participant_id,
    strftime('%Y-%m-%dT%H:%M:%S', event_time_us / 1000000, 'unixepoch')
        || printf('.%03dZ', event_time_us / 1000 % 1000) AS event_time,
    name,
    remote_participant_id,
    error_code,
    effect,
    connected_now,
    publishing_now
FROM running
WHERE :participant IS NULL OR participant_id = :participant
ORDER BY stage_arn, event_time_us, step, rank, participant_id, seq;
