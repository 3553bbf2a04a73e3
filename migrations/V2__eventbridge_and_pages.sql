-- stagelog schema, version 2: EventBridge events beside ListParticipantEvents data, and the
-- pagination tokens of saved pages.

-- Where an event came from: 'api' (an IVS `Event` object: ListParticipantEvents pages, event
-- NDJSON or arrays) or 'eventbridge'. EventBridge has no join, leave or subscribe events and
-- whole-second times, so for a participant with any 'api' event its EventBridge events are
-- `covered`: kept, but left out of intervals and reports (see the view `reported_events`).
ALTER TABLE events ADD COLUMN source TEXT NOT NULL DEFAULT 'api';
ALTER TABLE events ADD COLUMN covered INTEGER NOT NULL DEFAULT 0;
-- The envelope `id`: EventBridge delivers at least once, so a repeat with the same id is a
-- duplicate even if Firehose wrote it differently.
ALTER TABLE events ADD COLUMN eventbridge_id TEXT;
CREATE UNIQUE INDEX events_by_eventbridge_id ON events (eventbridge_id)
    WHERE eventbridge_id IS NOT NULL;

-- `IVS Participant Recording State Change` events.
CREATE TABLE recording_events (
    recording_event_key      INTEGER PRIMARY KEY,
    eventbridge_id           TEXT    NOT NULL UNIQUE,
    session_key              INTEGER NOT NULL REFERENCES sessions (session_key),
    participant_id           TEXT,
    event_name               TEXT    NOT NULL,
    event_time_us            INTEGER NOT NULL,
    recording_s3_bucket_name TEXT,
    recording_s3_key_prefix  TEXT,
    raw_json                 TEXT    NOT NULL,
    import_key               INTEGER NOT NULL REFERENCES imports (import_key)
);

-- `IVS Composition State Change` events (server-side composition of a stage).
CREATE TABLE composition_events (
    composition_event_key INTEGER PRIMARY KEY,
    eventbridge_id        TEXT    NOT NULL UNIQUE,
    composition_arn       TEXT    NOT NULL,
    stage_key             INTEGER REFERENCES stages (stage_key),
    session_id            TEXT,
    event_name            TEXT    NOT NULL,
    event_time_us         INTEGER NOT NULL,
    raw_json              TEXT    NOT NULL,
    import_key            INTEGER NOT NULL REFERENCES imports (import_key)
);

-- One row per saved response page that had a `nextToken`: a token seen on two different pages
-- means pages were saved twice or the pagination looped.
CREATE TABLE page_tokens (
    import_key INTEGER NOT NULL REFERENCES imports (import_key) ON DELETE CASCADE,
    list       TEXT    NOT NULL,  -- the response's list: events, participants, stageSessions
    next_token TEXT    NOT NULL
);
CREATE INDEX page_tokens_by_token ON page_tokens (next_token, list);

-- Files of other EventBridge detail-types (channel events, …) are counted, not stored.
ALTER TABLE imports ADD COLUMN records_skipped INTEGER NOT NULL DEFAULT 0;
-- The context the file was imported with (flags or path), as JSON: the same bytes imported with
-- another context are other data, so only the same content *and* context is skipped unread.
ALTER TABLE imports ADD COLUMN context TEXT NOT NULL DEFAULT '{}';
DROP INDEX imports_by_hash;
CREATE INDEX imports_by_hash ON imports (content_sha256, context);

-- The events the reports count.
CREATE VIEW reported_events AS
SELECT * FROM events WHERE covered = 0;

DROP VIEW event_list;
CREATE VIEW event_list AS
SELECT
    e.event_key,
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
    e.import_key
FROM events e
JOIN sessions s USING (session_key)
JOIN stages st USING (stage_key)
JOIN participants p USING (participant_key);
