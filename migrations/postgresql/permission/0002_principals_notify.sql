-- Every change to group memberships notifies the servers' processes, which
-- then forget the memberships they keep for GET /v1/
-- (kinto_server.permission.postgresql.CachedPrincipals).
CREATE OR REPLACE FUNCTION user_principals_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kinto_server_principals', '');
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS user_principals_changed ON user_principals;
CREATE TRIGGER user_principals_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON user_principals
    FOR EACH STATEMENT EXECUTE FUNCTION user_principals_changed();
