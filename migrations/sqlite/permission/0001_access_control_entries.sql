-- One row per (object URI, permission, principal).
CREATE TABLE IF NOT EXISTS access_control_entries (
    object_id TEXT NOT NULL,
    permission TEXT NOT NULL,
    principal TEXT NOT NULL,
    PRIMARY KEY (object_id, permission, principal)
) WITHOUT ROWID;

-- What may a principal see under an URI prefix (lists, shared objects).
CREATE INDEX IF NOT EXISTS idx_ace_principal ON access_control_entries (principal, object_id);

-- Extra principals held by users: the groups they are members of.
CREATE TABLE IF NOT EXISTS user_principals (
    user_id TEXT NOT NULL,
    principal TEXT NOT NULL,
    PRIMARY KEY (user_id, principal)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS idx_user_principals_principal ON user_principals (principal);
