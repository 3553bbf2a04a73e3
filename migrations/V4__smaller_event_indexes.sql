-- stagelog schema, version 4: the index on every event's (name, time) gives way to small
-- partial indexes on the rare events that reports look up by name. Common events (joins,
-- leaves, publishes, subscribes) make up over 95% of a stage's events; indexing them all by
-- name cost a seventh of the database's size and one more random B-tree insert per event.
DROP INDEX events_by_name_time;

-- error-breakdown: error events by time (its WHERE repeats this IN list word for word, which
-- is what lets SQLite use a partial index).
CREATE INDEX events_errors_by_time ON events (event_time_us)
    WHERE name IN ('JOIN_ERROR', 'PUBLISH_ERROR', 'SUBSCRIBE_ERROR');
-- token-chains.
CREATE INDEX events_token_exchanges ON events (session_key, participant_key)
    WHERE name = 'TOKEN_EXCHANGED';
-- replication-graph's orphan stops.
CREATE INDEX events_replication_stops ON events (session_key)
    WHERE name = 'REPLICATION_STOPPED';
