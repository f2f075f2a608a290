-- One row per (object URI, permission, principal).
CREATE TABLE IF NOT EXISTS access_control_entries (
    object_id TEXT COLLATE "C" NOT NULL,
    permission TEXT COLLATE "C" NOT NULL,
    principal TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (object_id, permission, principal)
);

-- What may a principal see under an URI prefix (lists, shared objects).
CREATE INDEX IF NOT EXISTS idx_ace_principal
    ON access_control_entries (principal, object_id);

-- Extra principals held by users: the groups they are members of.
CREATE TABLE IF NOT EXISTS user_principals (
    user_id TEXT COLLATE "C" NOT NULL,
    principal TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, principal)
);

CREATE INDEX IF NOT EXISTS idx_user_principals_principal
    ON user_principals (principal);
