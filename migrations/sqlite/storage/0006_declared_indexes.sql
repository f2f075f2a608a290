-- The data fields a collection is sorted and filtered by, declared with
-- `kinto_server index`: each has expression indexes on objects, shared by
-- the parents that declare the same field (kinto_server/storage/sqlite.py).
CREATE TABLE IF NOT EXISTS declared_indexes (
    resource_name TEXT NOT NULL,
    parent_id TEXT NOT NULL,
    field TEXT NOT NULL,
    PRIMARY KEY (resource_name, parent_id, field)
) WITHOUT ROWID;
