"""What else changes when an object is saved or deleted: group membership
principals, and the cascade below a deleted bucket or collection. These are
explicit calls from the object operations, not event side effects."""

from kinto_server.resources.tree import BUCKET, GROUP


def _members(obj):
    return set(obj.get("members", ())) if obj else set()


def after_save(registry, ref, old, new):
    """Keep users' group principals in line with a group's ``members``."""
    if ref.resource is not GROUP:
        return
    permission = registry.permission
    old_members, new_members = _members(old), _members(new)
    for member in old_members - new_members:
        permission.remove_user_principal(user_id=member, principal=ref.uri)
    for member in new_members - old_members:
        permission.add_user_principal(user_id=member, principal=ref.uri)


def after_delete(registry, ref):
    """Remove what lived below ``ref`` (children, their ACEs, group principals)."""
    storage, permission = registry.storage, registry.permission
    if ref.resource is GROUP:
        permission.remove_principal(principal=ref.uri)
    elif ref.resource is BUCKET:
        groups = storage.list_all(resource_name="group", parent_id=ref.uri)
        for group in groups:
            permission.remove_principal(principal=f"{ref.uri}/groups/{group['id']}")
    storage.delete_tree(parent_uri=ref.uri)
    permission.delete_object_permissions(object_uri=ref.uri, with_children=True)
