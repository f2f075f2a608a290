"""The ``permissions`` part of an object: merging what a request sends with
what is stored, and showing it only to the object's writers."""


def merged_permissions(resource, sent, existing, replace_all, user_id):
    """The ACEs to store after a write, as ``{permission: set(principals)}``.

    ``sent`` is the request's ``permissions`` (possibly empty). With
    ``replace_all`` (PUT) every permission not sent is emptied; otherwise
    (POST, PATCH) only the permissions sent are replaced. The writing user is
    always added to ``write``, as Kinto grants its editors.
    """
    result = {}
    if sent and replace_all:
        result = {perm: set() for perm in resource.permissions}
    for perm, principals in (sent or {}).items():
        result[perm] = set(principals)
    if user_id is not None:
        writers = result.get("write")
        if writers is None:
            writers = set(existing.get("write", ()))
        result["write"] = writers | {user_id}
    return result


def stored_after(existing, changes):
    """The ACEs an object will have once ``changes`` are applied."""
    merged = {perm: set(p) for perm, p in existing.items()}
    for perm, principals in changes.items():
        if principals:
            merged[perm] = set(principals)
        else:
            merged.pop(perm, None)
    return merged


def shown(permissions, principals):
    """The ``permissions`` body member: sorted lists, or ``{}`` unless the
    caller is among the object's own writers (inherited write does not show
    them, as in Kinto)."""
    if principals.isdisjoint(permissions.get("write", ())):
        return {}
    return {perm: sorted(principals) for perm, principals in sorted(permissions.items()) if principals}
