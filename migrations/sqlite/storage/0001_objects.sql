-- Objects of every resource, live ones and tombstones, keyed by parent and
-- id; data is JSON text (read with SQLite's JSON functions).
CREATE TABLE IF NOT EXISTS objects (
    parent_id TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    id TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    data TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (parent_id, resource_name, id)
) WITHOUT ROWID;

-- Timestamps are unique within a parent; the index serves the default sort
-- (-last_modified) and _since/_before ranges.
CREATE UNIQUE INDEX IF NOT EXISTS idx_objects_timestamp
    ON objects (parent_id, resource_name, last_modified);

-- The highest timestamp handed out per parent (see kinto_server/storage/sqlite.py).
CREATE TABLE IF NOT EXISTS timestamps (
    parent_id TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    PRIMARY KEY (parent_id, resource_name)
) WITHOUT ROWID;
