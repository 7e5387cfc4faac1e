-- Schema version 2: run results may be stored compressed.
--
-- A million-contract IRRBB report is some 300 MB of JSON; zstd keeps a quarter of it and is
-- faster to write than the bytes it saves. `results` holds the bytes as encoded;
-- `results_encoding` says how ('identity': as given, 'zstd': one zstd frame) and
-- `results_len` is the length of the results as given (NULL on runs recorded before this
-- version, which are all 'identity': their length is `length(results)`). Hashes, in the run
-- and in its audit entry, are always of the results as given.
--
-- Never edit this file after it has been released: add a new migration instead.

ALTER TABLE runs ADD COLUMN results_encoding TEXT NOT NULL DEFAULT 'identity'
    CHECK (results_encoding IN ('identity', 'zstd'));
ALTER TABLE runs ADD COLUMN results_len INTEGER CHECK (results_len >= 0);
