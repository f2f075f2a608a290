"""Who may do what: permissions inherited down the tree.

A permission on an object is granted by ACEs on the object or its ancestors:
``write`` anywhere above grants everything below; ``read`` is granted by
``read`` or ``write``; ``<child>:create`` by itself or by ``write``. Reading a
bucket or collection object is also allowed to those who may create children
in it (Kinto's ``read:attributes``).
"""

from kinto_server.errors import ERRORS, FORBIDDEN_MESSAGE, http_error
from kinto_server.resources.tree import CHILD_TYPES

EVERYONE = "system.Everyone"
AUTHENTICATED = "system.Authenticated"


def granting(ref, permission):
    """The (uri, permission) pairs that grant ``permission`` on ``ref``."""
    lineage = ref.lineage()
    if permission == "write":
        return [(r.uri, "write") for r in lineage]
    if permission == "read":
        return [(r.uri, p) for r in lineage for p in ("read", "write")]
    if permission == "read:attributes":
        creates = [(ref.uri, child.create_permission) for child in CHILD_TYPES.get(ref.resource, ())]
        return granting(ref, "read") + creates
    if permission.endswith(":create"):
        return [(ref.uri, permission)] + [(r.uri, "write") for r in lineage]
    raise ValueError(f"unknown permission {permission}")


def base_principals(request):
    """The caller's own principals, before group memberships."""
    user_id = request.authenticated_userid
    return [EVERYONE] if user_id is None else [user_id, EVERYONE, AUTHENTICATED]


class Access:
    """The ACEs of one branch of the tree, as seen by one set of principals."""

    def __init__(self, principals, acls, root_principals):
        self.principals = principals
        self._acls = acls  # uri -> {permission: set(principals)}
        self._root = root_principals  # permission -> principals, for the root

    @staticmethod
    def root_permissions(request):
        registry = request.registry
        return {"bucket:create": registry.settings["bucket_create_principals"], **registry.root_permissions_extra}

    def acl(self, uri):
        return self._acls.get(uri, {})

    def allows(self, ref, permission):
        """True if the principals hold ``permission`` on ``ref`` (None = root)."""
        if ref is None:
            return not self.principals.isdisjoint(self._root.get(permission, ()))
        for uri, perm in granting(ref, permission):
            holders = self._acls.get(uri, {}).get(perm)
            if holders and not self.principals.isdisjoint(holders):
                return True
        return False


def forbidden(request):
    """401 for an anonymous caller, 403 for an authenticated one."""
    if request.authenticated_userid is None:
        from kinto_server.authentication import challenges  # (it imports this module)

        return http_error(
            401,
            ERRORS.MISSING_AUTH_TOKEN,
            "Please authenticate yourself to use this endpoint.",
            headers=[("WWW-Authenticate", value) for value in challenges(request)],
        )
    return http_error(403, ERRORS.FORBIDDEN, FORBIDDEN_MESSAGE)
