"""A browser's own EventSource on the change stream, in headless Chromium:
it receives a change made through the REST API, and when the server ends the
stream it reconnects by itself, with Last-Event-ID, and gets exactly what
was written meanwhile."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.functional.test_changes_stream import COLLECTION, STREAM_SETTINGS, post, share
from tests.support import BOB, create_bucket, create_collection, user_id

PAGE = b"""<!doctype html><meta charset="utf-8"><title>stream</title>
<script>
window.received = []; window.opened = 0; window.dropped = 0;
function follow(url) {
  const source = new EventSource(url);
  source.addEventListener("ready", () => { window.opened += 1; });
  source.addEventListener("error", () => { window.dropped += 1; });  // the stream ended: retrying
  source.addEventListener("change", (e) => { window.received.push({id: e.lastEventId, data: JSON.parse(e.data)}); });
}
</script>"""


@pytest.fixture
def origin():
    """A page of another origin than the API's (as a web app's)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def app(make_app):
    settings = {
        **STREAM_SETTINGS,
        "kinto.changes.stream.retry_milliseconds": "1500",
        "kinto.changes.stream.max_seconds": "1.5",
    }
    app = make_app(**settings)
    create_bucket(app)
    create_collection(app)
    share(app, COLLECTION, ["system.Everyone"])
    yield app
    app.app.registry.stream_server.stop()


def test_an_event_source_receives_changes_and_resumes_by_itself_after_the_stream_ends(app, origin, page):
    page.goto(origin)
    url = app.app.registry.stream_url + f"?resources={COLLECTION}"
    page.evaluate("url => follow(url)", url)
    page.wait_for_function("window.opened === 1")
    first = post(app, {"n": 1})
    page.wait_for_function("window.received.length === 1")
    assert page.evaluate("window.received[0].data.data") == first
    # The server ends each stream after max_seconds; the browser waits for
    # the retry advice (1.5 s), then comes back on its own with the last id
    # it received: what was written while it was away reaches it then.
    page.wait_for_function("window.dropped === 1", timeout=10000)
    assert page.evaluate("window.opened") == 1
    written = [post(app, {"n": n})["id"] for n in range(2, 12)]
    page.wait_for_function("window.opened === 2", timeout=10000)
    page.wait_for_function("window.received.length === 11", timeout=10000)
    page.wait_for_function("window.dropped === 2", timeout=10000)
    written += [post(app, {"n": n})["id"] for n in range(12, 15)]
    page.wait_for_function("window.received.length === 14", timeout=10000)
    received = page.evaluate("window.received.map(e => e.data.id)")
    assert received == [first["id"], *written]
    ids = page.evaluate("window.received.map(e => e.lastEventId || e.id)")
    assert len(set(ids)) == 14


def test_an_event_source_opens_a_private_stream_with_a_ticket(app, origin, page):
    share(app, COLLECTION, [user_id("bob")])
    ticket = app.post_json("/v1/changes/stream/tickets", {}, headers=BOB, status=201).json["ticket"]
    page.goto(origin)
    url = app.app.registry.stream_url + f"?resources={COLLECTION}&ticket={ticket}"
    page.evaluate("url => follow(url)", url)
    page.wait_for_function("window.opened === 1")
    private = post(app, {"secret": True})
    page.wait_for_function("window.received.length === 1")
    assert page.evaluate("window.received[0].data.data") == private
