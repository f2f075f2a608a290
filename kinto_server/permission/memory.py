"""In-memory permission backend, indexed both ways: by object URI (to check a
request) and by principal (to list what a user may read)."""

import threading
from collections import defaultdict

from kinto_server.database.journal import Journal
from kinto_server.permission import PermissionBackend


class MemoryPermission(PermissionBackend):
    def __init__(self):
        self._lock = threading.RLock()
        self._aces = {}  # uri -> {permission: set(principals)}
        self._by_principal = defaultdict(set)  # principal -> {(uri, permission)}
        self._user_principals = defaultdict(set)  # user id -> {principal}
        # Request transactions: driven by the transaction tween.
        self.client = Journal()

    def _remember_aces(self, uri, permissions):
        """Register how to restore ``permissions`` of ``uri`` as they are now."""
        aces = self._aces.get(uri, {})
        before = {perm: set(aces.get(perm, ())) for perm in permissions}
        self.client.record(lambda: self.replace_object_permissions(object_uri=uri, permissions=before))

    @classmethod
    def from_settings(cls, settings):
        return cls()

    def get_objects_permissions(self, *, object_uris):
        result = []
        for uri in object_uris:
            aces = self._aces.get(uri)
            result.append({perm: set(principals) for perm, principals in aces.items()} if aces else {})
        return result

    def _remove_ace(self, uri, permission):
        principals = self._aces[uri].pop(permission, ())
        for principal in principals:
            entries = self._by_principal.get(principal)
            if entries is not None:
                entries.discard((uri, permission))
                if not entries:
                    del self._by_principal[principal]

    def replace_object_permissions(self, *, object_uri, permissions):
        with self._lock:
            self._remember_aces(object_uri, permissions)
            aces = self._aces.setdefault(object_uri, {})
            for permission, principals in permissions.items():
                if permission in aces:
                    self._remove_ace(object_uri, permission)
                principals = set(principals)
                if principals:
                    aces[permission] = principals
                    for principal in principals:
                        self._by_principal[principal].add((object_uri, permission))
            if not aces:
                del self._aces[object_uri]

    def delete_object_permissions(self, *, object_uri, with_children=True):
        prefix = object_uri + "/"
        with self._lock:
            if with_children:
                doomed = [u for u in self._aces if u == object_uri or u.startswith(prefix)]
            else:
                doomed = [object_uri] if object_uri in self._aces else []
            for uri in doomed:
                self._remember_aces(uri, list(self._aces[uri]))
                for permission in list(self._aces[uri]):
                    self._remove_ace(uri, permission)
                del self._aces[uri]

    def get_accessible_objects(self, *, principals, permissions, uri_prefix=""):
        result = defaultdict(set)
        with self._lock:
            for principal in principals:
                for uri, permission in self._by_principal.get(principal, ()):
                    if permission in permissions and uri.startswith(uri_prefix):
                        result[uri].add(permission)
        return dict(result)

    def import_permissions(self, *, aces=(), memberships=()):
        counts = [0, 0]
        with self._lock:
            wanted = defaultdict(lambda: defaultdict(set))
            for uri, permission, principal in aces:
                wanted[uri][permission].add(principal)
                counts[0] += 1
            for uri, permissions in wanted.items():
                current = self._aces.get(uri, {})
                merged = {perm: set(current.get(perm, ())) | added for perm, added in permissions.items()}
                self.replace_object_permissions(object_uri=uri, permissions=merged)
            for user_id, principal in memberships:
                self.add_user_principal(user_id=user_id, principal=principal)
                counts[1] += 1
        return tuple(counts)

    def add_user_principal(self, *, user_id, principal):
        with self._lock:
            if principal not in self._user_principals.get(user_id, ()):
                self.client.record(lambda: self.remove_user_principal(user_id=user_id, principal=principal))
            self._user_principals[user_id].add(principal)

    def remove_user_principal(self, *, user_id, principal):
        with self._lock:
            held = self._user_principals.get(user_id)
            if held is not None:
                if principal in held:
                    self.client.record(lambda: self.add_user_principal(user_id=user_id, principal=principal))
                held.discard(principal)
                if not held:
                    del self._user_principals[user_id]

    def remove_principal(self, *, principal):
        with self._lock:
            for user_id in list(self._user_principals):
                self.remove_user_principal(user_id=user_id, principal=principal)
            for uri, permission in list(self._by_principal.get(principal, ())):
                remaining = self._aces[uri][permission] - {principal}
                self.replace_object_permissions(object_uri=uri, permissions={permission: remaining})

    def get_user_principals(self, *, user_ids):
        found = set()
        for user_id in user_ids:
            found |= self._user_principals.get(user_id, set())
        return found

    def flush(self):
        with self._lock:
            self._aces.clear()
            self._by_principal.clear()
            self._user_principals.clear()

    def heartbeat(self):
        return True
