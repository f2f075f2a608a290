"""What the server asks an OpenID Connect provider: its discovery document,
the profile behind an access token (userinfo), the tokens for an
authorization code, and, when an audience is configured, the signature and
claims of a JWT access token (checked against the provider's JWKS).

Every call has a timeout. A provider that cannot be reached, or that
answers with a server error, raises :class:`ProviderUnavailable`, which the
server answers with a 503 (Kinto answers 500). A token the provider
refuses is only "not verified": the caller stays anonymous, as in Kinto.
"""

import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request

from kinto_server.errors import BackendUnavailable
from kinto_server.settings import ConfigurationError

logger = logging.getLogger(__name__)

USER_AGENT = "kinto_server (OpenID Connect plugin)"
REQUIRED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint")


class ProviderUnavailable(BackendUnavailable):
    """The identity provider cannot be reached or fails."""

    def __init__(self, provider, reason):
        super().__init__(f"OpenID provider {provider.name!r} ({provider.issuer}): {reason}")
        self.public_message = f"The identity provider {provider.name!r} cannot be reached, please retry later."


class TokenRefused(Exception):
    """The provider or the JWT checks do not accept an access token."""


class Provider:
    """One ``multiauth.policy.<name>.*`` provider, its discovery fetched once."""

    def __init__(self, name, issuer, timeout_seconds, audience=""):
        self.name = name
        self.issuer = issuer
        self.timeout = timeout_seconds
        self.audience = audience
        self._config = None
        self._jwks_client = None
        self._lock = threading.Lock()
        self.on_discovery = []  # called with the document once it is fetched
        if audience:
            try:
                import jwt  # noqa: F401
            except ImportError:
                raise ConfigurationError(
                    f"multiauth.policy.{name}.audience needs PyJWT: pip install 'kinto_server[openid]'"
                ) from None

    # Discovery.

    def configuration(self):
        """The discovery document, fetched at the first need and kept."""
        if self._config is None:
            with self._lock:
                if self._config is None:
                    document = self._discover()
                    for hook in self.on_discovery:
                        hook(document)
                    self._config = document
        return self._config

    def _discover(self):
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        status, document = self._call(urllib.request.Request(url))
        if status != 200 or not isinstance(document, dict):
            raise ProviderUnavailable(self, f"discovery document answered {status}")
        missing = [key for key in REQUIRED_ENDPOINTS if key not in document]
        if missing:
            raise ProviderUnavailable(self, f"discovery document lacks {', '.join(missing)}")
        return document

    def try_discovery(self):
        """Fetch the discovery document now; False (and a warning) if the
        provider cannot be reached, in which case it is asked again later."""
        try:
            self.configuration()
            return True
        except ProviderUnavailable as error:
            logger.warning("%s; asked again at the first login or token check.", error)
            return False

    def endpoint(self, name):
        return self.configuration()[name]

    # Tokens.

    def userinfo(self, access_token):
        """The profile of the token's user; :class:`TokenRefused` if the
        provider does not accept the token."""
        request = urllib.request.Request(
            self.endpoint("userinfo_endpoint"), headers={"Authorization": "Bearer " + access_token}
        )
        status, body = self._call(request)
        if status in (400, 401, 403) or (status == 200 and not isinstance(body, dict)):
            raise TokenRefused(f"userinfo answered {status}")
        if status != 200:
            raise ProviderUnavailable(self, f"userinfo answered {status}")
        return body

    def exchange_code(self, code, client_id, client_secret, redirect_uri):
        """The token endpoint's answer (status, text) for an authorization code."""
        form = urllib.parse.urlencode(
            {
                "code": code,
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uri": redirect_uri,
                "grant_type": "authorization_code",
            }
        ).encode()
        request = urllib.request.Request(
            self.endpoint("token_endpoint"),
            data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
        status, text = self._call(request, parse=False)
        if status >= 500:
            raise ProviderUnavailable(self, f"token endpoint answered {status}")
        return status, text

    def check_jwt(self, access_token):
        """The claims of a JWT access token signed by a key of the provider's
        JWKS, issued by it for ``audience`` and not expired."""
        import jwt

        if self._jwks_client is None:
            jwks_uri = self.endpoint("jwks_uri")
            self._jwks_client = jwt.PyJWKClient(jwks_uri, timeout=self.timeout, headers={"User-Agent": USER_AGENT})
        try:
            key = self._jwks_client.get_signing_key_from_jwt(access_token)
        except jwt.PyJWKClientConnectionError as error:
            raise ProviderUnavailable(self, f"JWKS: {error}") from None
        except jwt.PyJWTError as error:
            raise TokenRefused(f"no signing key: {error}") from None
        try:
            return jwt.decode(
                access_token,
                key.key,
                algorithms=[key.algorithm_name] if getattr(key, "algorithm_name", None) else ["RS256"],
                issuer=self.issuer,
                audience=self.audience,
            )
        except jwt.PyJWTError as error:
            raise TokenRefused(str(error)) from None

    # HTTP.

    def _call(self, request, parse=True):
        """``(status, body)``: the parsed JSON body (None if not JSON), or the text."""
        request.add_header("User-Agent", USER_AGENT)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        except (OSError, ValueError) as error:  # refused, timed out, DNS, TLS, bad URL
            raise ProviderUnavailable(self, str(getattr(error, "reason", error))) from None
        text = raw.decode("utf-8", errors="replace")
        if not parse:
            return status, text
        try:
            return status, json.loads(text)
        except ValueError:
            return status, None
