"""The personal ``default`` bucket: ``/buckets/default`` is the caller's own
bucket, whose id is derived from their user id, created on first use along
with any collection named under it.

The id is Kinto's: the HMAC-SHA256 of the user id keyed by
``default_bucket_hmac_secret``, its first 32 hex digits shaped as a UUID,
so data moved from Kinto keeps its default buckets. As in Kinto 26.5, that
secret defaults to the empty string (not to ``userid_hmac_secret``, as its
docs say): the ids are then predictable, which the start-up warns about;
setting it on an existing deployment moves every user's default bucket.

Anyone who can compute that id could create the bucket before its owner
does and read what the owner then writes in it: a default bucket whose ACEs
do not give its owner ``write`` is never served (403).
"""

import logging

from kinto_server import events
from kinto_server.authentication import hmac_digest
from kinto_server.resources import acl
from kinto_server.resources.access import forbidden
from kinto_server.resources.tree import BUCKET, COLLECTION, ObjectRef
from kinto_server.storage import ObjectExistsError

DEFAULT = "default"

logger = logging.getLogger(__name__)


KEPT_IDS = 10_000


class DefaultBucket:
    def __init__(self, settings):
        self.secret = settings["default_bucket_hmac_secret"]
        self._ids = {}  # user id -> bucket id, at most KEPT_IDS
        if not self.secret:
            logger.warning(
                "kinto.default_bucket_hmac_secret is empty (Kinto's default): anyone can compute the "
                "default bucket id of a user id. Set it on a new deployment; on one moved from Kinto, "
                "setting it moves every user's default bucket."
            )

    def bucket_id(self, user_id):
        # An HMAC per request of every user of the default bucket (and of
        # GET /v1/) is a few microseconds each time: kept for the users seen.
        found = self._ids.get(user_id)
        if found is None:
            if len(self._ids) >= KEPT_IDS:
                self._ids.clear()
            digest = hmac_digest(self.secret, user_id)[:32]
            found = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
            self._ids[user_id] = found
        return found

    def resolve(self, request, ref):
        """The caller's real ref for a ref under ``/buckets/default``, with the
        bucket (and the collection named in the path) created if missing."""
        user_id = request.authenticated_userid
        if user_id is None:
            raise forbidden(request)
        real = ObjectRef(ref.resource, (self.bucket_id(user_id),) + ref.ids[1:])
        lineage = real.lineage()
        implicit = [r for r in lineage[:2] if r.resource in (BUCKET, COLLECTION)]
        if request.method == "PUT" and implicit and implicit[-1] == real:
            implicit = implicit[:-1]  # As Kinto: a PUT of the bucket or collection itself creates it (201).
        self._ensure(request, implicit, user_id)
        return real

    def _ensure(self, request, refs, user_id):
        storage = request.registry.storage
        keys = [(r.resource.name, r.parent_uri, r.object_id) for r in refs]
        found = storage.get_many(keys=keys)
        for ref, key in zip(refs, keys, strict=True):
            if key in found:
                if ref.resource is BUCKET:
                    self._check_owned(request, ref)
                continue
            try:
                new = storage.create(
                    resource_name=ref.resource.name, parent_id=ref.parent_uri, obj={"id": ref.object_id}
                )
            except ObjectExistsError:
                continue  # Created meanwhile by a concurrent request.
            permissions = acl.merged_permissions(ref.resource, {}, {}, False, user_id)
            request.registry.permission.replace_object_permissions(object_uri=ref.uri, permissions=permissions)
            events.notify(request, "create", ref, None, new, permissions)

    @staticmethod
    def _check_owned(request, ref):
        """403 unless the caller holds ``write`` on their default bucket itself."""
        writers = request.registry.permission.get_object_permissions(object_uri=ref.uri).get("write", ())
        if request.principals.isdisjoint(writers):
            raise forbidden(request)


def includeme(config):
    config.registry.default_bucket = DefaultBucket(config.registry.settings)
    config.registry.capabilities["default_bucket"] = {
        "description": "The default bucket is an alias for a personal bucket where collections are created implicitly.",
        "url": "https://kinto.readthedocs.io/en/latest/api/1.x/buckets.html#personal-bucket-default",
    }
