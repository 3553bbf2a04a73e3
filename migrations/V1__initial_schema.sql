-- stagelog schema, version 1.
--
-- Conventions, so that hand-written SQL is predictable:
--   * `<table>_key` columns are stagelog's own integer row keys; join with `USING (session_key)`.
--   * AWS ids keep their AWS names (`stage_arn`, `session_id`, `participant_id`) and are TEXT,
--     stored byte for byte.
--   * Times are INTEGER microseconds since the Unix epoch, UTC, in columns ending `_us`; the views
--     at the end add RFC 3339 text.
--   * JSON columns hold canonical JSON (object keys sorted, capability arrays sorted).

CREATE TABLE imports (
    import_key        INTEGER PRIMARY KEY,
    path              TEXT    NOT NULL,
    content_sha256    TEXT    NOT NULL,
    format            TEXT    NOT NULL,
    records_read      INTEGER NOT NULL DEFAULT 0,
    records_inserted  INTEGER NOT NULL DEFAULT 0,
    records_duplicate INTEGER NOT NULL DEFAULT 0,
    records_merged    INTEGER NOT NULL DEFAULT 0,  -- participant and session records
    records_rejected  INTEGER NOT NULL DEFAULT 0,
    unknown_names     INTEGER NOT NULL DEFAULT 0,
    unknown_error_codes INTEGER NOT NULL DEFAULT 0,
    unknown_fields    INTEGER NOT NULL DEFAULT 0,
    imported_at_us    INTEGER NOT NULL,
    stagelog_version  TEXT    NOT NULL
);
CREATE INDEX imports_by_hash ON imports (content_sha256);

CREATE TABLE rejects (
    reject_key INTEGER PRIMARY KEY,
    import_key INTEGER NOT NULL REFERENCES imports (import_key) ON DELETE CASCADE,
    position   TEXT    NOT NULL,  -- "line 12" or a JSON path such as "$.events[3]"
    reason     TEXT    NOT NULL,
    raw        TEXT    NOT NULL
);
CREATE INDEX rejects_by_import ON rejects (import_key);

CREATE TABLE stages (
    stage_key INTEGER PRIMARY KEY,
    stage_arn TEXT NOT NULL UNIQUE
);

CREATE TABLE sessions (
    session_key   INTEGER PRIMARY KEY,
    stage_key     INTEGER NOT NULL REFERENCES stages (stage_key),
    session_id    TEXT    NOT NULL,
    -- From ListStageSessions / GetStageSession; NULL until such a record is imported.
    start_time_us INTEGER,
    end_time_us   INTEGER,
    UNIQUE (stage_key, session_id)
);

CREATE TABLE participants (
    participant_key    INTEGER PRIMARY KEY,
    session_key        INTEGER NOT NULL REFERENCES sessions (session_key),
    participant_id     TEXT    NOT NULL,
    -- The rest comes from GetParticipant / ListParticipants records and stays NULL without one.
    user_id            TEXT,
    state              TEXT,
    first_join_time_us INTEGER,
    attributes         TEXT,
    published          INTEGER,
    isp_name           TEXT,
    os_name            TEXT,
    os_version         TEXT,
    browser_name       TEXT,
    browser_version    TEXT,
    sdk_version        TEXT,
    protocol           TEXT,
    recording_s3_bucket_name TEXT,
    recording_s3_prefix TEXT,
    recording_state    TEXT,
    replication_type   TEXT,
    replication_state  TEXT,
    source_stage_arn   TEXT,
    source_session_id  TEXT,
    redundant_ingest   INTEGER,
    ingest_configuration_arn TEXT,
    -- Fields of the record that the columns above do not hold, as JSON.
    extra_json         TEXT,
    UNIQUE (session_key, participant_id)
);

CREATE TABLE tokens (
    token_key          INTEGER PRIMARY KEY,
    capabilities       TEXT,     -- sorted JSON array; NULL when the token had none listed
    user_id            TEXT,
    attributes         TEXT,     -- JSON object with sorted keys
    expiration_time_us INTEGER,
    -- Fields this version does not know, as JSON; part of the identity.
    extra_json         TEXT,
    identity           BLOB NOT NULL UNIQUE
);

CREATE TABLE events (
    event_key              INTEGER PRIMARY KEY,
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
    -- The whole record as written, kept only when it holds fields the columns above do not.
    raw_json               TEXT,
    import_key             INTEGER NOT NULL REFERENCES imports (import_key),
    -- Derived by stagelog from all events of the participant (recomputed when new ones arrive):
    -- position in the order the interval rules apply them, and which of the three steps of an
    -- instant applied it.
    seq                    INTEGER NOT NULL DEFAULT 0,
    step                   INTEGER NOT NULL DEFAULT 2,
    -- 128-bit hash of the event's canonical content: re-imports and overlapping pages add nothing.
    identity               BLOB    NOT NULL UNIQUE
);
CREATE INDEX events_by_session ON events (session_key, participant_key, event_time_us);
CREATE INDEX events_by_name_time ON events (name, event_time_us);

-- Connected, publishing and subscribed intervals, derived from events by the interval rules.
CREATE TABLE intervals (
    interval_key          INTEGER PRIMARY KEY,
    session_key           INTEGER NOT NULL REFERENCES sessions (session_key),
    participant_key       INTEGER NOT NULL REFERENCES participants (participant_key),
    kind                  TEXT    NOT NULL CHECK (kind IN ('connected', 'publishing', 'subscribed')),
    remote_participant_id TEXT,   -- subscribed intervals only
    started_at_us         INTEGER NOT NULL,
    stopped_at_us         INTEGER NOT NULL,
    -- 'stop' (its own *_STOPPED or LEFT event) or 'session_end' (still open at the end).
    closed_by             TEXT    NOT NULL CHECK (closed_by IN ('stop', 'session_end'))
);
CREATE INDEX intervals_by_session ON intervals (session_key, participant_key, kind);

-- One row per REPLICATION_STARTED ... REPLICATION_STOPPED interval; stopped_at_us is NULL while open.
CREATE TABLE replications (
    replication_key        INTEGER PRIMARY KEY,
    session_key            INTEGER NOT NULL REFERENCES sessions (session_key),
    participant_key        INTEGER NOT NULL REFERENCES participants (participant_key),
    destination_stage_arn  TEXT,
    destination_session_id TEXT,
    started_at_us          INTEGER NOT NULL,
    stopped_at_us          INTEGER
);
CREATE INDEX replications_by_session ON replications (session_key, participant_key);

-- Friendly views: AWS ids joined in, times as RFC 3339 text with microseconds.

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
    e.import_key
FROM events e
JOIN sessions s USING (session_key)
JOIN stages st USING (stage_key)
JOIN participants p USING (participant_key);

CREATE VIEW session_list AS
SELECT
    s.session_key,
    st.stage_arn,
    s.session_id,
    strftime('%Y-%m-%dT%H:%M:%S', s.start_time_us / 1000000, 'unixepoch')
        || printf('.%06dZ', s.start_time_us % 1000000) AS start_time,
    strftime('%Y-%m-%dT%H:%M:%S', s.end_time_us / 1000000, 'unixepoch')
        || printf('.%06dZ', s.end_time_us % 1000000) AS end_time,
    (SELECT count(*) FROM events e WHERE e.session_key = s.session_key) AS events,
    (SELECT count(*) FROM participants p WHERE p.session_key = s.session_key) AS participants
FROM sessions s
JOIN stages st USING (stage_key);

CREATE VIEW participant_list AS
SELECT
    p.*,
    st.stage_arn,
    s.session_id,
    strftime('%Y-%m-%dT%H:%M:%S', p.first_join_time_us / 1000000, 'unixepoch')
        || printf('.%06dZ', p.first_join_time_us % 1000000) AS first_join_time
FROM participants p
JOIN sessions s USING (session_key)
JOIN stages st USING (stage_key);

CREATE VIEW token_list AS
SELECT
    t.token_key,
    t.capabilities,
    coalesce(
        (SELECT group_concat(value, '+') OVER (ORDER BY value
                ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
         FROM json_each(t.capabilities) LIMIT 1),
        '-') AS capability_text,
    t.user_id,
    t.attributes,
    strftime('%Y-%m-%dT%H:%M:%S', t.expiration_time_us / 1000000, 'unixepoch')
        || printf('.%06dZ', t.expiration_time_us % 1000000) AS expiration_time,
    t.expiration_time_us
FROM tokens t;

CREATE VIEW interval_list AS
SELECT
    i.interval_key,
    st.stage_arn,
    s.session_id,
    p.participant_id,
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
