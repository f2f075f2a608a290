-- Objects of every resource, live ones and tombstones, keyed by parent and id.
CREATE TABLE IF NOT EXISTS objects (
    parent_id TEXT COLLATE "C" NOT NULL,
    resource_name TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    last_modified BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    data JSONB NOT NULL DEFAULT '{}'::JSONB,
    PRIMARY KEY (parent_id, resource_name, id)
);

-- Timestamps are unique within a parent: this index both enforces it and
-- serves the default sort (-last_modified) and _since/_before ranges.
CREATE UNIQUE INDEX IF NOT EXISTS idx_objects_timestamp
    ON objects (parent_id, resource_name, last_modified DESC);

-- The highest timestamp handed out per parent. Writers lock their parent's
-- row until they commit (see kinto_server/storage/postgresql.py).
CREATE TABLE IF NOT EXISTS timestamps (
    parent_id TEXT COLLATE "C" NOT NULL,
    resource_name TEXT COLLATE "C" NOT NULL,
    last_modified BIGINT NOT NULL,
    PRIMARY KEY (parent_id, resource_name)
);
