-- stagelog schema, version 3: what each event did under the interval rules, for timelines and
-- the data-quality audit, and how many warnings each import printed.

-- `opens publishing`, `closes connected, publishing`, `ignored start`, `orphan stop`, `error`,
-- `token exchanged`, `unknown event`; derived at import like seq and step.
ALTER TABLE events ADD COLUMN effect TEXT NOT NULL DEFAULT '';
-- By how much the event changed its participant's open connections / publishing intervals.
ALTER TABLE events ADD COLUMN connected_delta INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN publishing_delta INTEGER NOT NULL DEFAULT 0;

ALTER TABLE imports ADD COLUMN warnings INTEGER NOT NULL DEFAULT 0;
