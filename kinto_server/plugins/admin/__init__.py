"""The admin page (``kinto.plugins.admin`` in ``kinto.includes``, Kinto's
name, or ``kinto_server.plugins.admin``): a web application served at
``/v1/admin/`` that talks to this server's own API.

Its files ship in the package (``static/``: HTML, CSS and JavaScript
modules written as they are served, no build step, no Node.js). The page
runs under a strict Content-Security-Policy: scripts and styles from this
server only (no inline code, no ``eval``), requests to this server and to
its change stream only, no frames. ``/v1/admin`` redirects (307) to
``/v1/admin/``, as Kinto.

``kinto.admin_assets_path`` (Kinto's setting) serves another build from a
folder instead, such as kinto-admin's, under the policy Kinto gives it
(kinto-admin needs inline styles and ``eval``).
"""

from pathlib import Path
from urllib.parse import urlsplit

from pyramid.httpexceptions import HTTPNotFound, HTTPTemporaryRedirect
from pyramid.response import FileResponse, Response

from kinto_server import __version__

PATH = "/v1/admin/"
STATIC = Path(__file__).parent / "static"
STRICT_POLICY = (
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
)
# Kinto's policy for its kinto-admin build.
KINTO_ADMIN_POLICY = (
    "default-src 'self'",
    "img-src data: *",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
)
MEDIA_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}


def _connect_sources(registry):
    """This server, and the change stream's origin when it has its own port."""
    sources = ["'self'"]
    stream_url = getattr(registry, "stream_url", None)
    if stream_url:
        split = urlsplit(stream_url)
        sources.append(f"{split.scheme}://{split.netloc}")
    return sources


def content_security_policy(registry, folder):
    if folder != STATIC:
        return "; ".join(KINTO_ADMIN_POLICY)
    return "; ".join((*STRICT_POLICY, "connect-src " + " ".join(_connect_sources(registry))))


def _asset(folder, subpath):
    """The file of ``folder`` that ``subpath`` names, or None: never a path
    outside the folder, nor a hidden file."""
    if not subpath or any(part in ("", ".", "..") or part.startswith(".") for part in subpath):
        return None
    candidate = folder.joinpath(*subpath).resolve()
    if not candidate.is_relative_to(folder.resolve()) or not candidate.is_file():
        return None
    return candidate


def _page_response(request, path, policy):
    media_type = MEDIA_TYPES.get(path.suffix, "application/octet-stream")
    response = FileResponse(str(path), request=request, content_type=media_type)
    if media_type.startswith("text/") or media_type == "application/json":
        response.charset = "utf-8"
    # Revalidated each time (Last-Modified / ETag): an upgraded server's page is seen at once.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def includeme(config):
    registry = config.registry
    assets_path = registry.settings.get("admin_assets_path") or ""
    folder = Path(assets_path) if assets_path else STATIC
    registry.capabilities["admin"] = {
        "description": "Serves the admin console.",
        "url": "https://github.com/Kinto/kinto-admin/",
        "version": __version__ if folder == STATIC else _version_of(folder),
    }
    registry.slash_paths.add(PATH)
    registry.media_types[PATH] = ("text/html",)

    def home(request):
        index = folder / "index.html"
        if not index.is_file():
            return Response(f"No index.html in {folder}", status=404, content_type="text/plain")
        return _page_response(request, index, content_security_policy(registry, folder))

    def asset(request):
        found = _asset(folder, request.matchdict["subpath"])
        if found is None:
            raise HTTPNotFound()
        return _page_response(request, found, content_security_policy(registry, folder))

    def redirect(request):
        return HTTPTemporaryRedirect(location=request.script_name + PATH)

    config.add_route("admin_home", "/admin/")
    config.add_view(home, route_name="admin_home", request_method=("GET", "HEAD"))
    config.add_route("admin_redirect", "/admin")
    config.add_view(redirect, route_name="admin_redirect")
    config.add_route("admin_assets", "/admin/*subpath")
    config.add_view(asset, route_name="admin_assets", request_method=("GET", "HEAD"))


def _version_of(folder):
    version = folder / "VERSION"
    return version.read_text().strip() if version.is_file() else "unknown"
