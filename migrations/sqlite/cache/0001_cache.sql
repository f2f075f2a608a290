-- Short-lived values, JSON-encoded, with their expiry (epoch seconds).
CREATE TABLE IF NOT EXISTS cache (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS idx_cache_expires_at ON cache (expires_at);
