-- Schema version 3: facts about a snapshot's positions, derived at import.
--
-- What a run that streams the positions needs before the first one (the distinct product
-- labels, the outstanding notional by currency, …), as JSON the caller defines; written in the
-- import's transaction, immutable like the positions. Snapshots imported before this version
-- have none: a run then reads the positions whole.
--
-- Never edit this file after it has been released: add a new migration instead.

CREATE TABLE snapshot_facts (
    snapshot_key INTEGER PRIMARY KEY REFERENCES snapshots (key),
    facts        TEXT    NOT NULL
) STRICT;

CREATE TRIGGER snapshot_facts_no_update BEFORE UPDATE ON snapshot_facts
BEGIN SELECT RAISE(ABORT, 'snapshot facts are immutable'); END;
CREATE TRIGGER snapshot_facts_no_delete BEFORE DELETE ON snapshot_facts
BEGIN SELECT RAISE(ABORT, 'snapshot facts are immutable'); END;
