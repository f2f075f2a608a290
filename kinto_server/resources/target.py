"""The object a request is about, its ancestors, and what the caller may do
there, loaded together so a request costs one storage and one permission
lookup before it acts."""

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


class Target:
    """A ref, the stored objects along its lineage and the caller's access."""

    def __init__(self, request, ref):
        self.request = request
        self.ref = ref
        lineage = ref.lineage() if ref is not None else []
        keys = [(r.resource.name, r.parent_uri, r.object_id) for r in lineage]
        writing = request.method not in ("GET", "HEAD")
        known = "principals" in request.__dict__
        base = [] if known else base_principals(request)
        uris = [r.uri for r in lineage]
        # One call for principals, ACEs and objects: one round trip where
        # the backends allow it (kinto_server.combined).
        groups, acls, found = request.registry.combined.read_lineage(
            keys=keys, lock=writing, user_ids=base, object_uris=uris
        )
        if not known:
            request.__dict__["principals"] = frozenset(base) | groups
        self.access = Access(request.principals, dict(zip(uris, acls, strict=True)), Access.root_permissions(request))
        self._objects = {r.uri: found.get(k) for r, k in zip(lineage, keys, strict=True)}

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
