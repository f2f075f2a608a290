"""The request class of the server.

Pyramid adds the properties registered with ``add_request_method`` by
building a new class for every request, which costs as much as a whole
simple view. They are moved onto this class once, at start-up, instead.
"""

from pyramid.decorator import reify
from pyramid.interfaces import IRequestExtensions
from pyramid.request import Request

from kinto_server.authentication import request_principals
from kinto_server.environ_keys import IDENTITY_KEY


class KintoRequest(Request):
    # Bodies are capped by max_request_body_bytes (1 MiB by default): keep
    # them in memory rather than in temporary files WebOb never closes.
    request_body_tempfile_limit = 16 * 1024 * 1024

    # Pyramid looks the security policy up at each use of these two; the
    # identity is computed once per request (SecurityPolicy.identity keeps it).
    @property
    def identity(self):
        known = self.__dict__.get(IDENTITY_KEY)
        return known if known is not None else Request.identity.fget(self)

    @property
    def authenticated_userid(self):
        known = self.__dict__.get(IDENTITY_KEY)
        return known.user_id if known is not None else Request.authenticated_userid.fget(self)

    @reify
    def principals(self):
        """Every principal of the caller (see kinto_server.authentication)."""
        return request_principals(self)


def adopt_request_extensions(config):
    """Move the request properties registered by included packages (cornice's
    ``current_service``) onto :class:`KintoRequest`."""
    config.commit()
    extensions = config.registry.queryUtility(IRequestExtensions)
    if extensions is None:
        return
    for name, descriptor in extensions.descriptors.items():
        setattr(KintoRequest, name, descriptor)
    extensions.descriptors = {}


def includeme(config):
    config.set_request_factory(KintoRequest)
