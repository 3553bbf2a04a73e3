-- V5: figures the import keeps so that data-quality and session-quality read a row per
-- participant or session instead of every event and interval.
--
-- * `participant_counts` gains each participant's data-quality counts: its covered EventBridge
--   events, its reported events that came from ListParticipantEvents, the orphan stops and
--   ignored starts among them, those with an undocumented name or error code, and its intervals
--   closed at the session end.
-- * `sessions` gains the peak number of connected and of publishing intervals that share an
--   instant (the sweep session-quality describes).
--
-- Both are filled here from the stored events and intervals, the same way the import computes
-- them.

ALTER TABLE participant_counts ADD COLUMN covered_events INTEGER NOT NULL DEFAULT 0;
ALTER TABLE participant_counts ADD COLUMN api_events INTEGER NOT NULL DEFAULT 0;
ALTER TABLE participant_counts ADD COLUMN orphan_stops INTEGER NOT NULL DEFAULT 0;
ALTER TABLE participant_counts ADD COLUMN ignored_starts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE participant_counts ADD COLUMN unknown_names INTEGER NOT NULL DEFAULT 0;
ALTER TABLE participant_counts ADD COLUMN unknown_error_codes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE participant_counts ADD COLUMN closed_at_session_end INTEGER NOT NULL DEFAULT 0;

ALTER TABLE sessions ADD COLUMN peak_participants INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN peak_publishers INTEGER NOT NULL DEFAULT 0;

UPDATE participant_counts
SET covered_events = e.covered,
    api_events = e.api,
    orphan_stops = e.orphan_stops,
    ignored_starts = e.ignored_starts,
    unknown_names = e.unknown_names,
    unknown_error_codes = e.unknown_error_codes
FROM (
    SELECT participant_key,
           sum(covered <> 0) AS covered,
           sum(covered = 0 AND source = 'api') AS api,
           sum(covered = 0 AND effect = 'orphan stop') AS orphan_stops,
           sum(covered = 0 AND effect = 'ignored start') AS ignored_starts,
           sum(covered = 0 AND name NOT IN (
                   'JOINED', 'LEFT', 'PUBLISH_STARTED', 'PUBLISH_STOPPED', 'SUBSCRIBE_STARTED',
                   'SUBSCRIBE_STOPPED', 'JOIN_ERROR', 'PUBLISH_ERROR', 'SUBSCRIBE_ERROR',
                   'REPLICATION_STARTED', 'REPLICATION_STOPPED', 'TOKEN_EXCHANGED'))
               AS unknown_names,
           coalesce(sum(covered = 0 AND error_code NOT IN (
                   'INSUFFICIENT_CAPABILITIES', 'QUOTA_EXCEEDED', 'PUBLISHER_NOT_FOUND',
                   'BITRATE_EXCEEDED', 'RESOLUTION_EXCEEDED', 'STREAM_DURATION_EXCEEDED',
                   'INVALID_AUDIO_CODEC', 'INVALID_VIDEO_CODEC', 'INVALID_INPUT',
                   'B_FRAME_PRESENT', 'INVALID_PROTOCOL', 'INVALID_STREAM_KEY',
                   'REUSE_OF_STREAM_KEY', 'INTERNAL_SERVER_EXCEPTION')), 0)
               AS unknown_error_codes
    FROM events
    GROUP BY participant_key
) e
WHERE e.participant_key = participant_counts.participant_key;

UPDATE participant_counts
SET closed_at_session_end = i.intervals
FROM (
    SELECT participant_key, count(*) AS intervals
    FROM intervals
    WHERE closed_by = 'session_end'
    GROUP BY participant_key
) i
WHERE i.participant_key = participant_counts.participant_key;

UPDATE sessions
SET peak_participants = coalesce(p.participants, 0),
    peak_publishers = coalesce(p.publishers, 0)
FROM (
    SELECT session_key,
           max(CASE kind WHEN 'connected' THEN open_now END) AS participants,
           max(CASE kind WHEN 'publishing' THEN open_now END) AS publishers
    FROM (
        -- +1 at each start and -1 at each end of every interval of non-zero length; at one
        -- instant ends sort before starts, so [a, b) and [b, c) never overlap.
        SELECT session_key, kind,
               sum(d) OVER (PARTITION BY session_key, kind ORDER BY t, d
                            ROWS UNBOUNDED PRECEDING) AS open_now
        FROM (
            SELECT session_key, kind, started_at_us AS t, 1 AS d
            FROM intervals
            WHERE kind IN ('connected', 'publishing') AND stopped_at_us > started_at_us
            UNION ALL
            SELECT session_key, kind, stopped_at_us AS t, -1 AS d
            FROM intervals
            WHERE kind IN ('connected', 'publishing') AND stopped_at_us > started_at_us
        )
    )
    GROUP BY session_key
) p
WHERE p.session_key = sessions.session_key;
