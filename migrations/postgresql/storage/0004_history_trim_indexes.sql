-- The history's trim (history.auto_trim_max_count) reads the newest entries
-- of one resource name, or of one resource name and user, in a bucket: these
-- partial indexes make that a walk of the entries it keeps, however long the
-- history (kinto_server/storage/sql_common.trim_sql spells the same
-- expressions). Only history entries are in them.
CREATE INDEX IF NOT EXISTS idx_history_by_resource
    ON objects (parent_id, (data ->> 'resource_name'), last_modified DESC)
    WHERE resource_name = 'history' AND NOT deleted;

CREATE INDEX IF NOT EXISTS idx_history_by_resource_and_user
    ON objects (parent_id, (data ->> 'resource_name'), (data ->> 'user_id'), last_modified DESC)
    WHERE resource_name = 'history' AND NOT deleted;
