-- Raise an error with the given SQLSTATE from inside a statement: the
-- creations a transaction queues and sends later, together, check with it
-- what their caller could not see when they were queued (see
-- kinto_server.storage.postgresql, "Creations sent later").
CREATE OR REPLACE FUNCTION kinto_refuse(code TEXT, message TEXT) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message;
END $$;
