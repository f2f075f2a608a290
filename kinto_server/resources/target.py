"""The object a request is about, its ancestors, and what the caller may do
there, loaded together so a request costs one storage and one permission
lookup before it acts."""

from kinto_server.environ_keys import LINEAGE_MEMO
from kinto_server.errors import ERRORS, NO_MESSAGE, http_error, invalid_object_id
from kinto_server.resources.access import Access, base_principals, forbidden
from kinto_server.resources.tree import ObjectRef, is_valid_id


def not_found(ref, errno=ERRORS.INVALID_RESOURCE_ID):
    details = {"id": ref.object_id, "resource_name": ref.resource.name}
    return http_error(404, errno, NO_MESSAGE, details)


def ref_from_matchdict(request, resource, matchdict, include_self=True):
    """The ref named by the URL: the object itself, or (``include_self``
    false) the parent of a plural endpoint (None for ``/buckets``)."""
    chain = []
    rtype = resource if include_self else resource.parent
    while rtype is not None:
        chain.append(rtype)
        rtype = rtype.parent
    if not chain:
        return None
    ids = []
    max_length = request.registry.settings["max_id_length"]
    default_bucket = request.registry.default_bucket
    for rtype in reversed(chain):
        object_id = matchdict[f"{rtype.name}_id"]
        if not is_valid_id(object_id) or len(object_id) > max_length:
            # Kinto's personal bucket checks its collection ids itself.
            in_default = default_bucket is not None and ids == ["default"] and rtype.name == "collection"
            raise invalid_object_id("collection" if in_default else "object")
        ids.append(object_id)
    ref = ObjectRef(chain[0], tuple(ids))
    if default_bucket is not None and ids[0] == "default":
        ref = default_bucket.resolve(request, ref)
    return ref


class LineageMemo:
    """What the record writes of one batch read of their ancestors (the
    objects, locked for the batch's transaction, and their ACEs), so that the
    next record writes under the same ancestors, with the same principals,
    read only their own object: 25 creates in one collection cost one
    ancestors read instead of 25.

    The batch settles it after each sub-request: what a successful record
    write read is kept; anything else (a failure, whose savepoint rolled
    back its locks, or a write that may change buckets, collections, groups
    or ACEs) forgets everything."""

    def __init__(self):
        self.kept, self.pending = {}, {}

    def recall(self, principals, keys):
        return self.kept.get((principals, keys))

    def note(self, principals, keys, acls, found):
        self.pending[(principals, keys)] = (acls, found)

    def settle(self, keep):
        if keep:
            self.kept.update(self.pending)
        else:
            self.kept.clear()
        self.pending.clear()


class Target:
    """A ref, the stored objects along its lineage and the caller's access.

    ``fresh``: the ref's id was just generated, so no object (nor ACE) can
    be stored under it."""

    def __init__(self, request, ref, fresh=False):
        self.request = request
        self.ref = ref
        lineage = ref.lineage() if ref is not None else []
        keys = [(r.resource.name, r.parent_uri, r.object_id) for r in lineage]
        writing = request.method not in ("GET", "HEAD")
        known = "principals" in request.__dict__
        uris = [r.uri for r in lineage]
        memo = request.environ.get(LINEAGE_MEMO) if writing and known and len(keys) > 1 else None
        if memo is None:
            acls, found = self._read(keys, writing, uris, known)
        else:
            ancestors = tuple(keys[:-1])
            remembered = memo.recall(request.principals, ancestors)
            if remembered is None:
                acls, found = self._read(keys, writing, uris, known)
                memo.note(request.principals, ancestors, acls[:-1], {k: found[k] for k in ancestors if k in found})
            else:
                ancestor_acls, ancestor_found = remembered
                own_acls, own_found = ([{}], {}) if fresh else self._read(keys[-1:], writing, uris[-1:], known)
                acls, found = ancestor_acls + own_acls, {**ancestor_found, **own_found}
        self.access = Access(request.principals, dict(zip(uris, acls, strict=True)), Access.root_permissions(request))
        self._objects = {r.uri: found.get(k) for r, k in zip(lineage, keys, strict=True)}

    def _read(self, keys, lock, uris, known):
        """One call for principals, ACEs and objects: one round trip where
        the backends allow it (kinto_server.combined)."""
        request = self.request
        base = [] if known else base_principals(request)
        groups, acls, found = request.registry.combined.read_lineage(
            keys=keys, lock=lock, user_ids=base, object_uris=uris
        )
        if not known:
            request.__dict__["principals"] = frozenset(base) | groups
        return acls, found

    def stored(self, ref):
        """The stored object of ``ref`` (the target or one of its ancestors), or None."""
        return self._objects.get(ref.uri)

    @property
    def obj(self):
        """The stored object itself, or None."""
        return self._objects.get(self.ref.uri) if self.ref is not None else None

    def allows(self, permission, ref=None):
        return self.access.allows(self.ref if ref is None else ref, permission)

    def require(self, permission, ref=None):
        if not self.allows(permission, ref):
            raise forbidden(self.request)

    def parents_exist(self):
        """True when every ancestor of the ref is stored."""
        return all(self._objects.get(r.uri) is not None for r in self.ref.lineage()[:-1])

    def ensure_parents(self, include_self=False):
        """Raise 404 errno 111 for the first missing ancestor (or self)."""
        if self.ref is None:
            return
        lineage = self.ref.lineage()
        checked = lineage if include_self else lineage[:-1]
        for ref in checked:
            if self._objects.get(ref.uri) is None:
                raise not_found(ref, ERRORS.MISSING_RESOURCE)

    def ensure_object(self):
        """Raise 404 errno 110 when the object itself is missing."""
        if self.obj is None:
            raise not_found(self.ref)
        return self.obj
