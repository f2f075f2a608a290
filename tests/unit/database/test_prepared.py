"""Prepared statements: planned once per connection, same answers as plain
SQL, and a connection whose prepared state became unknown is replaced."""

import psycopg2
import pytest

from kinto_server import main
from kinto_server.database.postgresql import PostgreSQLClient, Prepared
from kinto_server.storage.postgresql import GET
from tests.backends import DATABASE_URL, database_client, settings_for
from tests.support import BASE_SETTINGS

ECHO = Prepared("SELECT %(a)s::int + %(b)s::int, %(a)s::int, %(label)s::text")


def test_named_parameters_become_numbered_ones_in_order_of_appearance():
    assert ECHO.prepare.endswith("AS SELECT $1::int + $2::int, $1::int, $3::text")
    assert ECHO.execute == f"EXECUTE {ECHO.name}(%(a)s, %(b)s, %(label)s)"


def test_statement_without_parameters_executes_without_arguments():
    statement = Prepared("SELECT 1")
    assert statement.execute == f"EXECUTE {statement.name}"


def test_same_text_same_name_and_different_texts_different_names():
    assert Prepared(ECHO.sql).name == ECHO.name
    assert Prepared("SELECT 2").name != Prepared("SELECT 3").name


@pytest.fixture
def client():
    database_client()  # Skips (or fails in CI) without PostgreSQL.
    client = PostgreSQLClient(DATABASE_URL.replace("postgresql://", "postgresql+psycopg2://"), pool_size=1)
    yield client
    client.engine.dispose()


def prepared_on(client):
    fairy = client.checkout()
    try:
        names = {row[0] for row in client.run(fairy, "SELECT name FROM pg_prepared_statements", None)}
        pid = client.run(fairy, "SELECT pg_backend_pid()", None)[0][0]
    finally:
        client.checkin(fairy)
    return names, pid


def test_prepared_statement_answers_like_plain_sql_and_is_prepared_once(client):
    params = {"a": 2, "b": 3, "label": "it's 100% 'quoted'"}
    for _ in range(3):
        assert client.execute(ECHO, params) == [(5, 2, "it's 100% 'quoted'")]
        assert client.execute(ECHO.sql, params) == [(5, 2, "it's 100% 'quoted'")]
    names, _ = prepared_on(client)
    assert ECHO.name in names


def test_arrays_and_json_arguments_bind_as_with_plain_sql(client):
    statement = Prepared("SELECT cardinality(%(items)s::text[]), CAST(%(doc)s AS jsonb) -> 'k'")
    assert client.execute(statement, {"items": [], "doc": '{"k": [1]}'}) == [(0, [1])]
    assert client.execute(statement, {"items": ["a", "b'c"], "doc": '{"k": "v"}'}) == [(2, "v")]


def test_prepared_statement_survives_a_rolled_back_transaction(client):
    client.start_request(readonly=False)
    assert client.execute(ECHO, {"a": 1, "b": 1, "label": "x"}) == [(2, 1, "x")]
    client.finish_request(commit=False)
    assert client.execute(ECHO, {"a": 1, "b": 2, "label": "y"}) == [(3, 1, "y")]


def test_failure_while_preparing_falls_back_to_plain_sql_then_replaces_the_connection(client):
    failing = Prepared("SELECT 1 / %(zero)s::int")
    _, first_pid = prepared_on(client)
    client.start_request(readonly=False)
    with pytest.raises(psycopg2.errors.DivisionByZero):
        client.execute(failing, {"zero": 0})
    client.finish_request(commit=False)
    # The connection did not know whether its PREPARE ran: it was replaced.
    names, second_pid = prepared_on(client)
    assert second_pid != first_pid
    assert failing.name not in names
    assert client.execute(failing, {"zero": 1}) == [(1,)]


def test_within_the_failed_connection_statements_run_as_plain_sql(client):
    failing = Prepared("SELECT 10 / %(n)s::int")
    fairy = client.checkout()
    try:
        with pytest.raises(psycopg2.errors.DivisionByZero):
            client.run(fairy, failing, {"n": 0})
        assert client.run(fairy, failing, {"n": 5}) == [(2,)]
        assert client.run(fairy, ECHO, {"a": 0, "b": 0, "label": ""}) == [(0, 0, "")]
    finally:
        client.checkin(fairy)


def test_lookups_by_key_use_the_primary_key_on_a_collection_grown_since_the_last_analyze(client):
    """Statistics say the new collection is empty; a custom plan would pick
    the timestamp index and read every record to find one.

    The statistics are those of a database in use (other collections hold
    rows). ANALYZE of an empty table keeps the statistics it had, so without
    this the plan depended on the tests run before; on statistics of a table
    of two or three rows every plan is a tie and PostgreSQL may pick either.
    """
    client.execute(
        """INSERT INTO objects (parent_id, resource_name, id, last_modified, deleted, data)
        SELECT '/buckets/b/collections/old', 'record', 'r' || n, n, n % 10 = 0, '{}' FROM generate_series(1, 2000) n"""
    )
    client.execute("ANALYZE objects")
    client.execute(
        """INSERT INTO objects (parent_id, resource_name, id, last_modified, deleted, data)
        SELECT '/buckets/b/collections/fresh', 'record', 'r' || n, n, FALSE, '{}' FROM generate_series(1, 3000) n"""
    )
    params = {"parent_id": "/buckets/b/collections/fresh", "resource_name": "record", "id": "r2999"}
    fairy = client.checkout()
    try:
        assert len(client.run(fairy, GET, params)) == 1  # Prepares it on this connection.
        plan = [row[0] for row in client.run(fairy, "EXPLAIN (ANALYZE) " + GET.execute, params)]
    finally:
        client.checkin(fairy)
    assert "objects_pkey" in "\n".join(plan)


def test_prepared_statements_can_be_switched_off_for_session_sharing_poolers():
    database_client()
    plain = PostgreSQLClient(DATABASE_URL.replace("postgresql://", "postgresql+psycopg2://"), prepared=False)
    try:
        assert plain.execute(ECHO, {"a": 1, "b": 2, "label": "z"}) == [(3, 1, "z")]
        names, _ = prepared_on(plain)
        assert names == set()
        # No startup options either: PgBouncer refuses unknown ones by default.
        assert plain.execute("SHOW plan_cache_mode") == [("auto",)]
    finally:
        plain.engine.dispose()


def test_setting_reaches_the_client_of_the_application():
    database_client()
    app = main({}, **BASE_SETTINGS, **settings_for("postgresql"), **{"kinto.storage_prepared_statements": "false"})
    assert app.registry.storage.client.prepared is False
    assert app.registry.storage.client is app.registry.permission.client
    default = main({}, **BASE_SETTINGS, **settings_for("postgresql"))
    assert default.registry.storage.client.prepared is True
