"""The object tree: buckets hold collections and groups, collections hold
records. An :class:`ObjectRef` names one object by its ids along the tree."""

import random
import re
import string
import uuid
from dataclasses import dataclass

ID_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$")

_NAME_ALPHABET = string.ascii_letters + string.digits
_random = random.SystemRandom()


def generate_name():
    """A short random id, as Kinto gives buckets, collections and groups."""
    return "".join(_random.choice(_NAME_ALPHABET) for _ in range(8))


def generate_uuid():
    return str(uuid.uuid4())


def is_valid_id(value):
    # fullmatch: ``$`` alone would accept a trailing newline.
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


@dataclass(frozen=True, eq=False)
class ResourceType:
    name: str
    plural: str
    parent: "ResourceType | None"
    permissions: tuple
    generate_id: object
    defaults: tuple = ()  # (field, value) pairs filled in when creating or replacing

    @property
    def create_permission(self):
        """The permission on the parent that allows creating one of these."""
        return f"{self.name}:create"

    def with_defaults(self, data):
        """``data`` completed with this resource's default fields (fresh copies)."""
        for name, value in self.defaults:
            if name not in data:
                data[name] = list(value)
        return data


BUCKET = ResourceType("bucket", "buckets", None, ("read", "write", "collection:create", "group:create"), generate_name)
COLLECTION = ResourceType("collection", "collections", BUCKET, ("read", "write", "record:create"), generate_name)
GROUP = ResourceType("group", "groups", BUCKET, ("read", "write"), generate_name, (("members", ()),))
RECORD = ResourceType("record", "records", COLLECTION, ("read", "write"), generate_uuid)

RESOURCE_TYPES = {rt.name: rt for rt in (BUCKET, COLLECTION, GROUP, RECORD)}
CHILD_TYPES = {BUCKET: (COLLECTION, GROUP), COLLECTION: (RECORD,), GROUP: (), RECORD: ()}

ROOT_URI = ""


class ObjectRef:
    """One object: its type and the ids from its bucket down to itself.

    Immutable; its URI, parent and lineage are computed once, when it is made.
    """

    __slots__ = ("resource", "ids", "uri", "parent", "parent_uri", "_lineage")

    def __init__(self, resource, ids):
        ids = tuple(ids)
        parent = ObjectRef(resource.parent, ids[:-1]) if resource.parent is not None else None
        setter = object.__setattr__
        setter(self, "resource", resource)
        setter(self, "ids", ids)
        setter(self, "parent", parent)
        setter(self, "parent_uri", parent.uri if parent is not None else ROOT_URI)
        setter(self, "uri", f"{self.parent_uri}/{resource.plural}/{ids[-1]}")
        setter(self, "_lineage", (parent._lineage if parent is not None else ()) + (self,))

    def __setattr__(self, name, value):
        raise AttributeError("ObjectRef is immutable")

    def __eq__(self, other):
        return isinstance(other, ObjectRef) and self.resource is other.resource and self.ids == other.ids

    def __hash__(self):
        return hash((self.resource.name, self.ids))

    def __repr__(self):
        return f"ObjectRef({self.resource.name}, {self.uri})"

    @property
    def object_id(self):
        return self.ids[-1]

    def lineage(self):
        """This object's ancestors then itself, from the bucket down."""
        return list(self._lineage)

    def child(self, resource, object_id):
        return ObjectRef(resource, self.ids + (object_id,))


def parent_uri_of_list(resource, parent_ids):
    """The storage ``parent_id`` of the objects listed at a plural endpoint."""
    if resource.parent is None:
        return ROOT_URI
    return ObjectRef(resource.parent, tuple(parent_ids)).uri


_URI_SHAPES = {
    ("buckets",): BUCKET,
    ("buckets", "collections"): COLLECTION,
    ("buckets", "groups"): GROUP,
    ("buckets", "collections", "records"): RECORD,
}


def ref_from_uri(uri):
    """The ref of an object URI (``/buckets/b/collections/c``), or None."""
    parts = uri.strip("/").split("/")
    if len(parts) % 2:
        return None
    resource = _URI_SHAPES.get(tuple(parts[0::2]))
    return ObjectRef(resource, tuple(parts[1::2])) if resource is not None else None
