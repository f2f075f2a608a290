"""Files follow their records: deleting a record, or a collection or bucket
with its records, removes their files once the deletion is committed
(unless ``keep_old_files``); a record write that drops or replaces its
``attachment`` outside the attachment endpoints frees the old file the same
way, and one that changes the attachment's metadata is refused (400), as
kinto-attachment does."""

from kinto_server.errors import ERRORS, http_error
from kinto_server.plugins.attachments.operations import release
from kinto_server.resources.tree import ref_from_uri

CASCADING = ("bucket", "collection", "record")


def on_change(event):
    payload = event.payload
    resource_name, action = payload["resource_name"], payload["action"]
    if resource_name not in CASCADING or action not in ("update", "delete"):
        return
    request = event.request
    plugin = request.registry.attachments
    ref = ref_from_uri(payload["uri"])
    rules = plugin.settings.for_collection(ref.ids[0], ref.ids[1] if len(ref.ids) > 1 else "")
    if action == "delete":
        release(request, plugin, ref, rules)
        return
    if resource_name != "record" or request.environ.get(plugin.OWN_WRITE):
        return
    for impacted in event.impacted_objects:
        before = (impacted["old"] or {}).get("attachment")
        after = (impacted["new"] or {}).get("attachment")
        if before and after and before != after:
            raise http_error(400, ERRORS.UNDEFINED, "Attachment metadata cannot be modified.", error="Bad Request")
        if before and not after:
            release(request, plugin, ref, rules)
