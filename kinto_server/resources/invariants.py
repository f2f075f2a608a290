"""What every stored object and ACE satisfies, whatever the write path.

The request schemas (:mod:`kinto_server.views.schemas`) check what a body
says; a PATCH (merge or JSON Patch) or a batch sub-request can still produce
an object the schemas never saw. :func:`check` runs on the object about to be
stored and the permissions about to be written, in the one place every write
goes through (:func:`kinto_server.resources.objects._save`), so that no write
path stores what another would refuse.
"""

import re

from kinto_server.errors import invalid_parameters
from kinto_server.resources.tree import GROUP

EVERYONE = "system.Everyone"
GROUP_URI = re.compile(r"/buckets/[^/]+/groups/[^/]+")
# C0 and C1 control characters (newline, tab, DEL...): never part of a
# principal; a trailing newline would make a second name for the same user.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# The last date an HTTP Last-Modified header can carry (9999-12-31), in ms.
MAX_TIMESTAMP = 253402300799999


def is_principal(value):
    return isinstance(value, str) and value != "" and CONTROL.search(value) is None


def member_problem(value):
    """Why ``value`` cannot be a group member, or None."""
    if not is_principal(value):
        return f"{value!r} is not a valid user ID."
    if value == EVERYONE or GROUP_URI.fullmatch(value):
        return f"{value!r} is not a valid user ID."
    return None


def _check_members(data):
    members = data.get("members", [])
    if not isinstance(members, list):
        raise invalid_parameters("body", "data.members", "Members should be a list of user IDs")
    for index, member in enumerate(members):
        problem = member_problem(member)
        if problem:
            raise invalid_parameters("body", f"data.members.{index}", problem)


def check_timestamp(data):
    """A ``last_modified`` sent in ``data`` is an integer an HTTP date can carry.

    Higher than the current timestamp, it is kept (as Kinto does, for
    replication); lower, the server's own is used."""
    value = data.get("last_modified")
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value > MAX_TIMESTAMP:
        raise invalid_parameters("body", "data.last_modified", f"Should be an integer timestamp up to {MAX_TIMESTAMP}")


def check_permissions(permissions):
    """Every principal named in ``{permission: principals}`` is a valid one."""
    for permission, principals in (permissions or {}).items():
        for principal in principals:
            if not is_principal(principal):
                raise invalid_parameters("body", f"permissions.{permission}", f"{principal!r} is not a valid principal")


def check(resource, data, permissions):
    """400 unless ``data`` and the ``permissions`` sent may be stored."""
    check_timestamp(data)
    if resource is GROUP:
        _check_members(data)
    check_permissions(permissions)
