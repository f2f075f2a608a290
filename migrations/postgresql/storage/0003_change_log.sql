-- The change log the live change stream reads (kinto_server.plugins.stream):
-- every write, appended inside its transaction. ``position`` is the clock
-- (microseconds) when the change was logged: the writes of one parent take
-- turns, so their positions follow their commits; across parents, a reader
-- only trusts positions below its horizon (kinto_server/storage/postgresql.py).
CREATE TABLE changes (
    position BIGINT NOT NULL,
    seq BIGSERIAL,
    action TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    parent_id TEXT NOT NULL,
    data JSONB NOT NULL,
    PRIMARY KEY (position, seq)
);

-- Cursors up to (position, seq) point at forgotten changes (purged, or flushed).
CREATE TABLE changes_forgotten (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    position BIGINT NOT NULL,
    seq BIGINT NOT NULL
);
INSERT INTO changes_forgotten (singleton, position, seq) VALUES (1, 0, 0);
