"""Which record each stored file belongs to: one small object per file in
the storage backend (resource ``attachment``, parent ``""``), written in
the same transaction as the record, so that a file is found from its key
(downloads check the record's ``read`` permission) and the files under a
record, a collection or a bucket are found when it is deleted (the link
lives outside the deleted tree, so it outlives the cascade)."""

import re
import uuid

from kinto_server.storage import Filter, ObjectNotFoundError

RESOURCE = "attachment"
PARENT = ""
_KEY_ID = re.compile(r"(?:^|/)([0-9a-f]{32})(?:\.[a-z0-9]{1,16})?$")


def new_key(folder, extension):
    """A key no client chose: ``folder/<uuid>.<extension>``."""
    name = uuid.uuid4().hex + (f".{extension}" if extension else "")
    return f"{folder.strip('/')}/{name}" if folder.strip("/") else name


def key_id(key):
    found = _KEY_ID.search(key)
    return found.group(1) if found else None


def add(storage, key, ref):
    bucket, collection = ref.lineage()[0], ref.parent
    storage.create(
        resource_name=RESOURCE,
        parent_id=PARENT,
        obj={
            "id": key_id(key),
            "location": key,
            "bucket_uri": bucket.uri,
            "collection_uri": collection.uri,
            "record_uri": ref.uri,
        },
    )


def find(storage, key):
    """The link of ``key``, or None."""
    object_id = key_id(key)
    if object_id is None:
        return None
    try:
        link = storage.get(resource_name=RESOURCE, parent_id=PARENT, object_id=object_id)
    except ObjectNotFoundError:
        return None
    return link if link.get("location") == key else None


def under(storage, ref):
    """The links of the files of the record ``ref``, or of every record below
    the collection or bucket ``ref``."""
    field = f"{ref.resource.name}_uri"
    return storage.list_all(resource_name=RESOURCE, parent_id=PARENT, filters=(Filter(field, ref.uri),))


def remove(storage, links):
    """Forget ``links`` (for good: a link has nothing to sync)."""
    ids = [link["id"] for link in links]
    if ids:
        storage.delete_all(resource_name=RESOURCE, parent_id=PARENT, object_ids=ids)
        storage.purge_deleted(resource_name=RESOURCE, parent_id=PARENT)
