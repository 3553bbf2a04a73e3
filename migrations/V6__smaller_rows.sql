-- V6: smaller rows, so that the database takes less room than the NDJSON it came from.
--
-- * An event's identity keeps the first 8 bytes of its hash instead of 16. The identity only
--   tells apart events of one participant at one instant (it is the last part of the primary
--   key), where 64 bits leave no chance of two distinct events colliding.
-- * `events.effect` is NULL where the event did what its name says, as the new table
--   `usual_effects` lists it (JOINED `opens connected`, LEFT `closes connected`, the three
--   errors `error`, …; an unknown name `unknown event`). Only the other effects (`closes
--   connected, publishing, 2 subscribed`, `orphan stop`, `ignored start`, …) and the empty effect
--   of an event the rules left out are stored. The views `reported_events` and `event_list`
--   (which the reports read) spell every effect out.
-- * `intervals` becomes a table without row ids, keyed by (session, participant, ordinal): a
--   participant's intervals lie together, so the index intervals_by_session goes. `ordinal`
--   numbers a participant's intervals by start time, then kind, remote participant and stop.
--
-- Both tables are rebuilt (create, copy, drop, rename) and the views that read them made again.

DROP VIEW event_list;
DROP VIEW reported_events;
DROP VIEW session_list;
DROP VIEW interval_list;

-- What an event of each documented name does when nothing gets in its way; any other name's
-- is `unknown event`. (stagelog's interval rules hold the same list.)
CREATE TABLE usual_effects (
    name   TEXT PRIMARY KEY,
    effect TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO usual_effects (name, effect) VALUES
    ('JOINED', 'opens connected'),
    ('PUBLISH_STARTED', 'opens publishing'),
    ('SUBSCRIBE_STARTED', 'opens subscribed'),
    ('REPLICATION_STARTED', 'opens replicating'),
    ('LEFT', 'closes connected'),
    ('PUBLISH_STOPPED', 'closes publishing'),
    ('SUBSCRIBE_STOPPED', 'closes subscribed'),
    ('REPLICATION_STOPPED', 'closes replicating'),
    ('JOIN_ERROR', 'error'),
    ('PUBLISH_ERROR', 'error'),
    ('SUBSCRIBE_ERROR', 'error'),
    ('TOKEN_EXCHANGED', 'token exchanged');

CREATE TABLE events_v6 (
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
    -- The first 64 bits of the SHA-256 of the event's canonical content.
    identity               BLOB    NOT NULL,
    source                 TEXT    NOT NULL DEFAULT 'api',
    covered                INTEGER NOT NULL DEFAULT 0,
    eventbridge_id         TEXT,
    -- NULL: the effect its name says (usual_effects); the views spell it out.
    effect                 TEXT    DEFAULT '',
    connected_delta        INTEGER NOT NULL DEFAULT 0,
    publishing_delta       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (session_key, participant_key, event_time_us, identity)
) WITHOUT ROWID;
INSERT INTO events_v6 SELECT
    session_key, participant_key, name, event_time_us, remote_participant_id,
    error_code, destination_stage_arn, destination_session_id, replica, previous_token_key,
    new_token_key, raw_json, import_key, seq, step, substr(identity, 1, 8), source, covered,
    eventbridge_id,
    CASE WHEN events.effect = coalesce(u.effect, 'unknown event') THEN NULL ELSE events.effect END,
    connected_delta, publishing_delta
FROM events
LEFT JOIN usual_effects u USING (name)
ORDER BY session_key, participant_key, event_time_us, identity;
DROP TABLE events;
ALTER TABLE events_v6 RENAME TO events;
CREATE UNIQUE INDEX events_by_eventbridge_id ON events (eventbridge_id)
    WHERE eventbridge_id IS NOT NULL;

CREATE TABLE intervals_v6 (
    session_key           INTEGER NOT NULL REFERENCES sessions (session_key),
    participant_key       INTEGER NOT NULL REFERENCES participants (participant_key),
    ordinal               INTEGER NOT NULL,
    kind                  TEXT    NOT NULL CHECK (kind IN ('connected', 'publishing', 'subscribed')),
    remote_participant_id TEXT,   -- subscribed intervals only
    started_at_us         INTEGER NOT NULL,
    stopped_at_us         INTEGER NOT NULL,
    -- 'stop' (its own *_STOPPED or LEFT event) or 'session_end' (still open at the end).
    closed_by             TEXT    NOT NULL CHECK (closed_by IN ('stop', 'session_end')),
    PRIMARY KEY (session_key, participant_key, ordinal)
) WITHOUT ROWID;
INSERT INTO intervals_v6
SELECT session_key, participant_key,
       row_number() OVER (PARTITION BY session_key, participant_key
                          ORDER BY started_at_us, kind, remote_participant_id, stopped_at_us),
       kind, remote_participant_id, started_at_us, stopped_at_us, closed_by
FROM intervals
ORDER BY 1, 2, 3;
DROP TABLE intervals;
ALTER TABLE intervals_v6 RENAME TO intervals;

-- Every stored event with its effect spelled out: what the other views read.
CREATE VIEW spelled_events AS
SELECT session_key, participant_key, name, event_time_us, remote_participant_id, error_code,
       destination_stage_arn, destination_session_id, replica, previous_token_key,
       new_token_key, raw_json, import_key, seq, step, identity, source, covered,
       eventbridge_id,
       coalesce(e.effect, u.effect, 'unknown event') AS effect,
       connected_delta, publishing_delta
FROM events e
LEFT JOIN usual_effects u USING (name);

CREATE VIEW reported_events AS
SELECT * FROM spelled_events WHERE covered = 0;

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
FROM spelled_events e
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

CREATE VIEW interval_list AS
SELECT
    st.stage_arn,
    s.session_id,
    p.participant_id,
    i.ordinal,
    i.kind,
    i.remote_participant_id,
    strftime('%Y-%m-%dT%H:%M:%S', i.started_at_us / 1000000, 'unixepoch')
        || printf('.%06dZ', i.started_at_us % 1000000) AS started_at,
    strftime('%Y-%m-%dT%H:%M:%S', i.stopped_at_us / 1000000, 'unixepoch')
        || printf('.%06dZ', i.stopped_at_us % 1000000) AS stopped_at,
    (i.stopped_at_us - i.started_at_us) / 1e6 AS duration_s,
    i.closed_by
FROM intervals i
JOIN sessions s USING (session_key)
JOIN stages st USING (stage_key)
JOIN participants p USING (participant_key);
