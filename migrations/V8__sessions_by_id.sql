-- stagelog schema, version 8: sessions found by their id. A `--session` report chose its session
-- by reading every session's row (the id is the second column of the only index that holds
-- it), which at ten million events (110,000 sessions) was most of its 60-80 ms.
CREATE INDEX sessions_by_id ON sessions (session_id);
