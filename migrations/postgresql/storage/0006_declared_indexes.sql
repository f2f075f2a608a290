-- The data fields a collection is sorted and filtered by, declared with
-- `kinto_server index`: each has expression indexes on objects, partial to
-- its parent (kinto_server/storage/postgresql.py, field indexes).
CREATE TABLE IF NOT EXISTS declared_indexes (
    resource_name TEXT COLLATE "C" NOT NULL,
    parent_id TEXT COLLATE "C" NOT NULL,
    field TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (resource_name, parent_id, field)
);
