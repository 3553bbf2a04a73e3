-- stagelog schema, version 4: events stored in the order every reader wants them, so an import
-- writes one B-tree per event instead of four, and reports find a session's events directly.
--
-- * `events` becomes a WITHOUT ROWID table keyed by (session, participant, time, identity): a
--   participant's events lie together in time order, which is how the interval rules and the
--   reports read them. The key also deduplicates: an event's identity hashes its stage,
--   session, participant and instant among the rest of its content, so two events with one
--   identity share the whole key. This replaces the row id (`event_key`), the UNIQUE
--   constraint on the identity alone (whose inserts landed at random places in a large
--   B-tree) and the index events_by_session.
-- * The index on every event's (name, time) goes: reports now choose sessions first (below) and
--   read their events by the key. (Partial indexes on the rare names were tried: SQLite then
--   re-prepares every statement that binds a session key, at each new binding, which cost an
--   import more than the indexes saved.)
-- * `participant_counts` keeps, per participant, the counts and first times over its reported
--   events that the per-session reports aggregate, so that they read a row per participant
--   instead of every event.
-- * Each session keeps the span of its reported events (`first_event_us`, `last_event_us`,
--   covered EventBridge events left out), kept up to date by every import that touches it: the
--   per-session reports select sessions by their first event from this small table.
--
-- The table is rebuilt (SQLite's documented way: create, copy, drop, rename), and the views
-- that read it are made again.

DROP VIEW event_list;
DROP VIEW reported_events;
DROP VIEW session_list;

CREATE TABLE events_v4 (
    session_key            INTEGER NOT NULL REFERENCES sessions (session_key),
    participant_key        INTEGER NOT NULL REFERENCES participants (participant_key),
    name                   TEXT    NOT NULL,
    event_time_us          INTEGER NOT NULL,
    remote_participant_id  TEXT,
    error_code             TEXT,
    destination_stage_arn  TEXT,
    destination_session_id TEXT,
    replica                INTEGER NOT NULL DEFAULT 0,
    previous_token_key     INTEGER REFERENCES tokens (token_key),
    new_token_key          INTEGER REFERENCES tokens (token_key),
    raw_json               TEXT,
    import_key             INTEGER NOT NULL REFERENCES imports (import_key),
    seq                    INTEGER NOT NULL DEFAULT 0,
    step                   INTEGER NOT NULL DEFAULT 2,
    -- 128-bit hash of the event's canonical content.
    identity               BLOB    NOT NULL,
    source                 TEXT    NOT NULL DEFAULT 'api',
    covered                INTEGER NOT NULL DEFAULT 0,
    eventbridge_id         TEXT,
    effect                 TEXT    NOT NULL DEFAULT '',
    connected_delta        INTEGER NOT NULL DEFAULT 0,
    publishing_delta       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (session_key, participant_key, event_time_us, identity)
) WITHOUT ROWID;
INSERT INTO events_v4 SELECT
    session_key, participant_key, name, event_time_us, remote_participant_id,
    error_code, destination_stage_arn, destination_session_id, replica, previous_token_key,
    new_token_key, raw_json, import_key, seq, step, identity, source, covered, eventbridge_id,
    effect, connected_delta, publishing_delta
FROM events;
DROP TABLE events;
ALTER TABLE events_v4 RENAME TO events;

CREATE UNIQUE INDEX events_by_eventbridge_id ON events (eventbridge_id)
    WHERE eventbridge_id IS NOT NULL;

ALTER TABLE sessions ADD COLUMN first_event_us INTEGER;
ALTER TABLE sessions ADD COLUMN last_event_us INTEGER;
UPDATE sessions
SET (first_event_us, last_event_us) = (
    SELECT min(e.event_time_us), max(e.event_time_us)
    FROM events e
    WHERE e.session_key = sessions.session_key AND e.covered = 0);
CREATE INDEX sessions_by_first_event ON sessions (first_event_us);

-- One row per participant with reported events (covered EventBridge events left out), rewritten
-- by every import that gives the participant events.
CREATE TABLE participant_counts (
    participant_key    INTEGER PRIMARY KEY REFERENCES participants (participant_key),
    session_key        INTEGER NOT NULL REFERENCES sessions (session_key),
    first_event_us     INTEGER NOT NULL,
    last_event_us      INTEGER NOT NULL,
    joins              INTEGER NOT NULL,  -- JOINED events
    join_errors        INTEGER NOT NULL,
    publishes          INTEGER NOT NULL,  -- PUBLISH_STARTED events
    publish_errors     INTEGER NOT NULL,
    subscribes         INTEGER NOT NULL,  -- SUBSCRIBE_STARTED events
    subscribe_errors   INTEGER NOT NULL,
    first_join_us      INTEGER,
    first_publish_us   INTEGER,
    first_subscribe_us INTEGER,
    -- Distinct remote participants subscribed to (SUBSCRIBE_STARTED), and tried (STARTED or
    -- SUBSCRIBE_ERROR); events without remoteParticipantId count as one more.
    subscribed_pairs   INTEGER NOT NULL,
    subscribe_pairs    INTEGER NOT NULL,
    -- Events other than SUBSCRIBE_* that say `replica`.
    replica_events     INTEGER NOT NULL
);
CREATE INDEX participant_counts_by_session ON participant_counts (session_key);
INSERT INTO participant_counts
SELECT e.participant_key, e.session_key,
       min(e.event_time_us), max(e.event_time_us),
       sum(e.name = 'JOINED'), sum(e.name = 'JOIN_ERROR'),
       sum(e.name = 'PUBLISH_STARTED'), sum(e.name = 'PUBLISH_ERROR'),
       sum(e.name = 'SUBSCRIBE_STARTED'), sum(e.name = 'SUBSCRIBE_ERROR'),
       min(CASE WHEN e.name = 'JOINED' THEN e.event_time_us END),
       min(CASE WHEN e.name = 'PUBLISH_STARTED' THEN e.event_time_us END),
       min(CASE WHEN e.name = 'SUBSCRIBE_STARTED' THEN e.event_time_us END),
       count(DISTINCT CASE WHEN e.name = 'SUBSCRIBE_STARTED'
                           THEN coalesce(e.remote_participant_id, x'00') END),
       count(DISTINCT CASE WHEN e.name IN ('SUBSCRIBE_STARTED', 'SUBSCRIBE_ERROR')
                           THEN coalesce(e.remote_participant_id, x'00') END),
       sum(e.replica <> 0 AND e.name NOT IN ('SUBSCRIBE_STARTED', 'SUBSCRIBE_STOPPED',
                                              'SUBSCRIBE_ERROR'))
FROM events e
WHERE e.covered = 0
GROUP BY e.session_key, e.participant_key;

CREATE VIEW reported_events AS
SELECT * FROM events WHERE covered = 0;

CREATE VIEW event_list AS
SELECT
    st.stage_arn,
    s.session_id,
    p.participant_id,
    e.name,
    strftime('%Y-%m-%dT%H:%M:%S', e.event_time_us / 1000000, 'unixepoch')
        || printf('.%06dZ', e.event_time_us % 1000000) AS event_time,
    e.event_time_us,
    e.remote_participant_id,
    e.error_code,
    e.destination_stage_arn,
    e.destination_session_id,
    e.replica,
    e.previous_token_key,
    e.new_token_key,
    e.seq,
    e.step,
    e.source,
    e.covered,
    e.import_key,
    e.effect,
    e.eventbridge_id
FROM events e
JOIN sessions s USING (session_key)
JOIN stages st USING (stage_key)
JOIN participants p USING (participant_key);

CREATE VIEW session_list AS
SELECT
    s.session_key,
    st.stage_arn,
    s.session_id,
    strftime('%Y-%m-%dT%H:%M:%S', s.first_event_us / 1000000, 'unixepoch')
        || printf('.%06dZ', s.first_event_us % 1000000) AS first_event_time,
    strftime('%Y-%m-%dT%H:%M:%S', s.last_event_us / 1000000, 'unixepoch')
        || printf('.%06dZ', s.last_event_us % 1000000) AS last_event_time,
    strftime('%Y-%m-%dT%H:%M:%S', s.start_time_us / 1000000, 'unixepoch')
        || printf('.%06dZ', s.start_time_us % 1000000) AS start_time,
    strftime('%Y-%m-%dT%H:%M:%S', s.end_time_us / 1000000, 'unixepoch')
        || printf('.%06dZ', s.end_time_us % 1000000) AS end_time,
    (SELECT count(*) FROM events e WHERE e.session_key = s.session_key) AS events,
    (SELECT count(*) FROM participants p WHERE p.session_key = s.session_key) AS participants
FROM sessions s
JOIN stages st USING (stage_key);

