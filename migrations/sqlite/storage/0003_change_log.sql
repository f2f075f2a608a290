-- The change log the live change stream reads (kinto_server.plugins.stream):
-- every write, appended inside its transaction. Writers take turns, so the
-- order of ``seq`` is the order of the commits; AUTOINCREMENT never hands a
-- number out twice, even after the newest changes are purged.
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    logged_at INTEGER NOT NULL,
    action TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    parent_id TEXT NOT NULL,
    data TEXT NOT NULL
);

-- Cursors up to ``seq`` point at forgotten changes (purged, or flushed).
CREATE TABLE changes_forgotten (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    seq INTEGER NOT NULL
);
INSERT INTO changes_forgotten (singleton, seq) VALUES (1, 0);
