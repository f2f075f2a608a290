"""``GET /v1/permissions``, when ``experimental_permissions_endpoint`` is on."""

from cornice import Service

from kinto_server.errors import cornice_errors_to_response
from kinto_server.resources.user_permissions import list_user_permissions
from kinto_server.views.rendering import exposes, render

permissions = Service(
    name="permissions",
    path="/permissions",
    description="Objects the user has permissions on",
    error_handler=cornice_errors_to_response,
)
exposes(permissions, listing=True)


@permissions.get()
def get_permissions(request):
    # Pyramid routes HEAD here too: HEAD counts.
    return render(request, list_user_permissions(request, count=request.method == "HEAD"))


def includeme(config):
    if not config.registry.settings["experimental_permissions_endpoint"]:
        return
    config.registry.capabilities["permissions_endpoint"] = {
        "description": "The permissions endpoint can be used to list all user objects permissions.",
        "url": "https://kinto.readthedocs.io/en/latest/configuration/settings.html#activating-the-permissions-endpoint",
    }
    config.add_cornice_service(permissions)
