-- Lists without _since read only live objects: a partial index keeps them
-- in timestamp order without walking the tombstones.
CREATE INDEX IF NOT EXISTS idx_objects_live_timestamp
    ON objects (parent_id, resource_name, last_modified DESC)
    WHERE NOT deleted;
