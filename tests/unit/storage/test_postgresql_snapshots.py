"""PostgreSQL-specific: a list and its ETag come from one snapshot, so a
write that commits while the list is read is either in the list or after
its ETag, also when the page is empty."""

import psycopg2
import pytest

from kinto_server.storage import Filter, Operator
from kinto_server.storage.postgresql import PostgreSQLStorage
from tests.backends import BACKENDS, DATABASE_URL, database_client

R, P = "record", "/buckets/b/collections/c"


class CommitAfterFirstStatement:
    """A client that lets a concurrent transaction commit right after the
    first statement it runs: the worst moment for a second statement."""

    def __init__(self, client, concurrent):
        self.client, self.concurrent = client, concurrent

    def execute(self, sql, params=None):
        rows = self.client.execute(sql, params)
        if self.concurrent is not None:
            self.concurrent.commit()
            self.concurrent = None
        return rows


@pytest.fixture
def storage():
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL is not among KINTO_TEST_BACKENDS")
    return PostgreSQLStorage(database_client())


def _write_in_progress():
    """A connection whose transaction took the next timestamp and wrote a
    record with it, not yet committed."""
    writer = psycopg2.connect(DATABASE_URL)
    with writer.cursor() as cursor:
        cursor.execute(
            "UPDATE timestamps SET last_modified = last_modified + 5 WHERE parent_id = %s RETURNING last_modified", (P,)
        )
        (later,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO objects (parent_id, resource_name, id, last_modified, deleted, data)"
            " VALUES (%s, %s, 'later', %s, FALSE, '{}')",
            (P, R, later),
        )
    return writer


def test_an_empty_page_gets_the_etag_of_its_own_snapshot(storage):
    first = storage.create(resource_name=R, parent_id=P, obj={"id": "first"})["last_modified"]
    writer = _write_in_progress()
    try:
        reader = PostgreSQLStorage(CommitAfterFirstStatement(storage.client, writer))
        since = [Filter("last_modified", first, Operator.GT)]
        objects, etag = reader.list_with_timestamp(resource_name=R, parent_id=P, filters=since, include_deleted=True)
    finally:
        writer.close()
    assert objects == []
    # Not ahead of the (empty) page: the next poll from it gets the write.
    assert etag == first
    assert [
        o["id"]
        for o in storage.list_all(resource_name=R, parent_id=P, filters=[Filter("last_modified", etag, Operator.GT)])
    ] == ["later"]


def test_a_count_gets_the_etag_of_its_own_snapshot(storage):
    first = storage.create(resource_name=R, parent_id=P, obj={"id": "first"})["last_modified"]
    writer = _write_in_progress()
    try:
        reader = PostgreSQLStorage(CommitAfterFirstStatement(storage.client, writer))
        count, etag = reader.count_with_timestamp(resource_name=R, parent_id=P)
    finally:
        writer.close()
    assert (count, etag) == (1, first)
