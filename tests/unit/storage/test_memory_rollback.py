"""Memory-specific: readers do not wait for writers, so a timestamp handed
out by a write that is then undone may already be some reader's ETag."""

from kinto_server.storage.memory import MemoryStorage

R, P = "record", "/buckets/b/collections/c"


def test_a_timestamp_of_an_undone_write_is_never_handed_out_again():
    storage = MemoryStorage()
    storage.client.start_request(readonly=False)
    undone = storage.create(resource_name=R, parent_id=P, obj={"id": "a"})["last_modified"]
    seen_by_a_reader = storage.resource_timestamp(resource_name=R, parent_id=P)
    storage.client.finish_request(commit=False)
    assert seen_by_a_reader == undone
    assert storage.create(resource_name=R, parent_id=P, obj={"id": "b"})["last_modified"] > undone
