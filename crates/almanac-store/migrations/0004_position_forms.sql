-- Schema version 4: compact forms of positions, derived at import.
--
-- Beside a position's JSON the caller may give a compact binary form of what its runs read
-- (for Almanac: the contract terms and product, see `almanac_balance_sheet::Position::
-- compact_form`), opaque to the store. A run over a million positions reads these instead
-- of parsing the JSON. The JSON stays the record; a position without a form (or a form the
-- reader does not understand) is read from its JSON. Forms are covered by the snapshot's
-- audit digest, so `audit verify` finds one that was changed. Snapshots imported before this
-- version have none.
--
-- Never edit this file after it has been released: add a new migration instead.

CREATE TABLE position_forms (
    snapshot_key INTEGER NOT NULL REFERENCES snapshots (key),
    ordinal      INTEGER NOT NULL,
    form         BLOB    NOT NULL,
    PRIMARY KEY (snapshot_key, ordinal)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER position_forms_no_update BEFORE UPDATE ON position_forms
BEGIN SELECT RAISE(ABORT, 'position forms are immutable'); END;
CREATE TRIGGER position_forms_no_delete BEFORE DELETE ON position_forms
BEGIN SELECT RAISE(ABORT, 'position forms are immutable'); END;
