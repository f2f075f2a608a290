"""``DELETE /v1/__user_data__/{principal}``: remove a user's data, for the
principals of ``user-data_delete_principals`` (Kinto's setting; nobody by
default), in the request's one transaction.

As Kinto means it: the objects whose only writer is the principal are
deleted (with what lies below them, leaving tombstones and sending the
usual events, so histories, syncing clients and the change stream see the
deletions), its account too when it is one; then the principal is taken
out of every other ACL and of every group. Beyond Kinto, a group it was a
member of is also rewritten without it in its ``members`` (an update, seen
as any other), so that the next save of the group does not bring it back.
Kinto 26.5 answers 500 to this request as soon as the history plugin is on.
"""

from cornice import Service

from kinto_server import events
from kinto_server.errors import ERRORS, cornice_errors_to_response, json_error
from kinto_server.resources import lifecycle
from kinto_server.resources.access import forbidden
from kinto_server.resources.tree import GROUP, RESOURCE_TYPES, ref_from_uri
from kinto_server.storage import ObjectNotFoundError
from kinto_server.views.rendering import BASE_EXPOSED, json_response

SETTING = "user-data_delete_principals"
# Every permission an object may grant (accounts have read and write too).
PERMISSIONS = sorted({p for resource in RESOURCE_TYPES.values() for p in resource.permissions})

user_data = Service(
    name="user-data",
    path="/__user_data__/{principal}",
    description="Delete the data of a principal",
    error_handler=cornice_errors_to_response,
)
user_data.exposed = {"DELETE": BASE_EXPOSED}
user_data_list = Service(name="user-data-list", path="/__user_data__", error_handler=cornice_errors_to_response)
user_data_list.exposed = {"DELETE": BASE_EXPOSED}


def owned_roots(uris_and_acls, principal):
    """The URIs whose only writer is ``principal``, less those below another
    of them (deleting an object deletes what it holds)."""
    owned = sorted(uri for uri, acl in uris_and_acls if acl.get("write") == {principal})
    roots = []
    for uri in owned:
        if not any(uri.startswith(root + "/") for root in roots):
            roots.append(uri)
    return roots


def _delete(request, uri):
    registry = request.registry
    account_id = uri.removeprefix("/accounts/") if uri.startswith("/accounts/") else None
    if account_id is not None:
        if "accounts" in registry.capabilities:
            from kinto_server.plugins.accounts.views import delete_stored_account

            try:
                delete_stored_account(request, account_id)
            except ObjectNotFoundError:
                registry.permission.delete_object_permissions(object_uri=uri)
        return
    ref = ref_from_uri(uri)
    if ref is None:
        return  # A history entry: its ACEs go with the principal below.
    try:
        old = registry.storage.get(resource_name=ref.resource.name, parent_id=ref.parent_uri, object_id=ref.object_id)
    except ObjectNotFoundError:
        registry.permission.delete_object_permissions(object_uri=uri)
        return
    tombstone = registry.storage.delete(
        resource_name=ref.resource.name, parent_id=ref.parent_uri, object_id=ref.object_id
    )
    lifecycle.after_delete(registry, ref)
    events.notify(request, "delete", ref, old, tombstone)


def _leave_group(request, group_uri, principal):
    registry = request.registry
    ref = ref_from_uri(group_uri)
    if ref is None or ref.resource is not GROUP:
        return
    try:
        old = registry.storage.get(resource_name=GROUP.name, parent_id=ref.parent_uri, object_id=ref.object_id)
    except ObjectNotFoundError:
        return
    members = [m for m in old.get("members", []) if m != principal]
    new = registry.storage.update(
        resource_name=GROUP.name, parent_id=ref.parent_uri, object_id=ref.object_id, obj={**old, "members": members}
    )
    lifecycle.after_save(registry, ref, old, new)
    acl = registry.permission.get_object_permissions(object_uri=group_uri)
    events.notify(request, "update", ref, old, new, acl)


@user_data.delete()
def delete_user_data(request):
    if request.principals.isdisjoint(request.registry.settings[SETTING]):
        raise forbidden(request)
    principal = request.matchdict["principal"]
    permission = request.registry.permission
    held = sorted(permission.get_accessible_objects(principals=[principal], permissions=PERMISSIONS))
    acls = permission.get_objects_permissions(object_uris=held)
    for uri in owned_roots(zip(held, acls, strict=True), principal):
        _delete(request, uri)
    for group_uri in sorted(permission.get_user_principals(user_ids=[principal])):
        _leave_group(request, group_uri, principal)
    # Out of every remaining ACE, and of every user's principals.
    permission.remove_principal(principal=principal)
    return json_response({"data": {"principal": principal}})


@user_data_list.delete()
def delete_user_data_list(request):
    return json_error(405, ERRORS.METHOD_NOT_ALLOWED, "Method not allowed on this endpoint.")


def includeme(config):
    config.add_cornice_service(user_data)
    config.add_cornice_service(user_data_list)
