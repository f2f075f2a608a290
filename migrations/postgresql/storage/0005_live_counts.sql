-- The number of live objects per parent and resource, kept by the writes
-- themselves: Total-Records of an unfiltered list is one row read, not a
-- count of the collection. Statement triggers (one upsert per parent a
-- statement touched, from its transition tables) keep it, whatever writes:
-- the storage's statements, an import, hand-written SQL; the upsert locks
-- the parent's row until commit, so concurrent writers add up exactly.
-- A row-level trigger would update one row once per object: a bulk write
-- of a million would leave a million versions of that row to walk.
CREATE TABLE IF NOT EXISTS live_counts (
    parent_id TEXT COLLATE "C" NOT NULL,
    resource_name TEXT COLLATE "C" NOT NULL,
    live BIGINT NOT NULL,
    PRIMARY KEY (parent_id, resource_name)
);

-- Writes wait while the counts are made, so that none is missed.
LOCK TABLE objects IN SHARE ROW EXCLUSIVE MODE;

INSERT INTO live_counts (parent_id, resource_name, live)
    SELECT parent_id, resource_name, count(*) FROM objects WHERE NOT deleted GROUP BY 1, 2
    ON CONFLICT (parent_id, resource_name) DO UPDATE SET live = EXCLUDED.live;

CREATE OR REPLACE FUNCTION live_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO live_counts AS c (parent_id, resource_name, live)
        SELECT parent_id, resource_name, count(*) FROM added WHERE NOT deleted GROUP BY 1, 2
        ON CONFLICT (parent_id, resource_name) DO UPDATE SET live = c.live + EXCLUDED.live;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION live_counts_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE live_counts AS c SET live = c.live - r.n
        FROM (SELECT parent_id, resource_name, count(*) AS n FROM removed WHERE NOT deleted GROUP BY 1, 2) AS r
        WHERE c.parent_id = r.parent_id AND c.resource_name = r.resource_name;
    RETURN NULL;
END $$;

-- An update changes a count when it revives a tombstone or deletes an
-- object; the other updates (most of them) find nothing to add.
CREATE OR REPLACE FUNCTION live_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO live_counts AS c (parent_id, resource_name, live)
        SELECT parent_id, resource_name, sum(delta) FROM (
            SELECT parent_id, resource_name, 1 AS delta FROM after_update WHERE NOT deleted
            UNION ALL
            SELECT parent_id, resource_name, -1 FROM before_update WHERE NOT deleted
        ) AS d GROUP BY 1, 2 HAVING sum(delta) <> 0
        ON CONFLICT (parent_id, resource_name) DO UPDATE SET live = c.live + EXCLUDED.live;
    RETURN NULL;
END $$;

CREATE TRIGGER live_counts_insert AFTER INSERT ON objects
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION live_counts_added();
CREATE TRIGGER live_counts_delete AFTER DELETE ON objects
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION live_counts_removed();
CREATE TRIGGER live_counts_update AFTER UPDATE ON objects
    REFERENCING OLD TABLE AS before_update NEW TABLE AS after_update
    FOR EACH STATEMENT EXECUTE FUNCTION live_counts_updated();
