-- The number of live objects per parent and resource, kept by triggers in
-- the writing transaction (whatever writes: the storage, an import,
-- hand-written SQL): Total-Records of an unfiltered list is one row read,
-- not a count of the collection.
CREATE TABLE IF NOT EXISTS live_counts (
    parent_id TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    live INTEGER NOT NULL,
    PRIMARY KEY (parent_id, resource_name)
) WITHOUT ROWID;

INSERT INTO live_counts (parent_id, resource_name, live)
    SELECT parent_id, resource_name, count(*) FROM objects WHERE NOT deleted GROUP BY 1, 2;

CREATE TRIGGER IF NOT EXISTS live_counts_insert AFTER INSERT ON objects WHEN NOT NEW.deleted
BEGIN
    INSERT INTO live_counts (parent_id, resource_name, live) VALUES (NEW.parent_id, NEW.resource_name, 1)
        ON CONFLICT (parent_id, resource_name) DO UPDATE SET live = live + 1;
END;

CREATE TRIGGER IF NOT EXISTS live_counts_delete AFTER DELETE ON objects WHEN NOT OLD.deleted
BEGIN
    UPDATE live_counts SET live = live - 1 WHERE parent_id = OLD.parent_id AND resource_name = OLD.resource_name;
END;

-- Only an update that revives a tombstone or deletes an object counts.
CREATE TRIGGER IF NOT EXISTS live_counts_update AFTER UPDATE OF deleted ON objects
    WHEN OLD.deleted <> NEW.deleted
BEGIN
    INSERT INTO live_counts (parent_id, resource_name, live)
        VALUES (NEW.parent_id, NEW.resource_name, CASE WHEN NEW.deleted THEN -1 ELSE 1 END)
        ON CONFLICT (parent_id, resource_name) DO UPDATE SET live = live + excluded.live;
END;
