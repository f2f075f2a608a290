"""The admin page at /v1/admin/, driven in headless Chromium against a real
server (waitress in a thread, the change stream on its own port): sign-in,
creating, editing and deleting each kind of object, a conflict, a
permission change seen by a second user, filters and sorting, live
updates, the history. The page only talks to the HTTP API, whose every
answer is tested on each backend elsewhere; these run on SQLite, the
backend a new user gets (KINTO_TEST_BACKENDS permitting)."""

import re
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.backends import BACKENDS, settings_for
from tests.integration.conftest import _serve
from tests.support import BASE_SETTINGS

BACKEND = "sqlite" if "sqlite" in BACKENDS else BACKENDS[0]
ADMIN_SETTINGS = {
    "kinto.includes": (
        "kinto.plugins.admin kinto.plugins.accounts kinto.plugins.history kinto_server.plugins.stream kinto_attachment"
    ),
    "kinto.multiauth.policies": "account basicauth",
    "kinto.account_hash_rounds": "4",
    "kinto.account_create_principals": "system.Everyone",
    "kinto.changes.stream.listen": "127.0.0.1:0",
    "kinto.changes.stream.heartbeat_seconds": "0.5",
    "kinto.changes.stream.poll_seconds": "0.05",
    "kinto.experimental_collection_schema_validation": "true",
}
PASSWORD = "a-long-password"


@pytest.fixture
def server(tmp_path):
    from tests.backends import prepare

    prepare(BACKEND)
    files = {"kinto.attachment.base_path": str(tmp_path / "files")}
    generator = _serve({**BASE_SETTINGS, **settings_for(BACKEND), **ADMIN_SETTINGS, **files})
    url = next(generator)
    for name in ("alice", "bob"):
        created = requests.put(f"{url}/accounts/{name}", json={"data": {"password": PASSWORD}}, timeout=10)
        assert created.status_code == 201, created.text
    yield url
    next(generator, None)


def api(user="alice"):
    session = requests.Session()
    session.auth = (user, PASSWORD)
    return session


@pytest.fixture
def errors(page):
    """The page's console errors and failed scripts (a CSP violation is one)."""
    found = []
    page.set_default_timeout(8000)
    page.on("console", lambda message: found.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: found.append(str(error)))
    yield found


def sign_in(page, server, user="alice", password=PASSWORD):
    page.goto(f"{server}/admin/")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def signed_in(page, server, user="alice"):
    sign_in(page, server, user)
    page.get_by_role("heading", name="Buckets", level=1).wait_for()
    return page


def with_collection(server, **collection):
    """Alice's session, after she made bucket b and its collection c."""
    http = api()
    http.put(f"{server}/buckets/b").raise_for_status()
    http.put(f"{server}/buckets/b/collections/c", json=collection or None).raise_for_status()
    return http


def fill_json(page, value):
    page.get_by_label("JSON").fill(value)


def test_sign_in_with_an_account_keeps_it_for_the_browser_session_only(server, page, errors):
    sign_in(page, server, password="wrong")
    page.get_by_role("alert").filter(has_text="Wrong user name or password").wait_for()
    sign_in(page, server)
    page.get_by_role("heading", name="Buckets", level=1).wait_for()
    assert page.locator("#whoami").text_content() == "account:alice"
    assert page.evaluate("sessionStorage.length") == 1
    assert page.evaluate("localStorage.length") == 0
    assert "a-long-password" not in page.evaluate("JSON.stringify(sessionStorage)")  # only its Basic header
    page.reload()
    page.get_by_role("heading", name="Buckets", level=1).wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for()
    assert page.evaluate("sessionStorage.length + localStorage.length") == 0
    assert errors == [] or all("401" in error for error in errors)


def test_create_edit_and_delete_a_bucket_a_collection_a_group_and_a_record(server, page, errors):
    signed_in(page, server)
    page.get_by_label("New bucket id").fill("shop")
    page.get_by_role("button", name="Create bucket").click()
    page.get_by_role("heading", name="Bucket shop").wait_for()
    page.get_by_label("New collection id").fill("orders")
    page.get_by_role("button", name="Create collection").click()
    page.get_by_role("heading", name="Collection orders").wait_for()

    page.get_by_role("link", name="Create record").click()
    fill_json(page, '{"item": "tea", "n": 2}')
    page.get_by_label("New record id").fill("first")
    page.get_by_role("button", name="Create record").click()
    page.get_by_role("heading", name="Record first").wait_for()
    fill_json(page, '{"item": "green tea", "n": 3}')
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved.").wait_for()
    stored = api().get(f"{server}/buckets/shop/collections/orders/records/first").json()["data"]
    assert (stored["item"], stored["n"]) == ("green tea", 3)

    page.get_by_role("link", name="collection orders").click()
    page.locator("tr[data-id=first]").get_by_text("green tea").wait_for()
    page.get_by_role("link", name="Attributes").click()
    fill_json(page, '{"displayFields": ["item"]}')
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved.").wait_for()
    assert api().get(f"{server}/buckets/shop/collections/orders").json()["data"]["displayFields"] == ["item"]

    page.get_by_role("link", name="bucket shop").click()
    page.get_by_role("link", name="Groups").click()
    page.get_by_label("New group id").fill("staff")
    page.get_by_role("button", name="Create group").click()
    page.get_by_role("heading", name="Group staff").wait_for()
    page.get_by_label("Members (one principal per line)").fill("account:bob\naccount:alice")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved.").wait_for()
    assert api().get(f"{server}/buckets/shop/groups/staff").json()["data"]["members"] == [
        "account:bob",
        "account:alice",
    ]

    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    page.get_by_text("group staff deleted.").wait_for()
    assert api().get(f"{server}/buckets/shop/groups/staff").status_code == 404

    page.goto(f"{server}/admin/#/buckets/shop/collections/orders/records/first")
    page.get_by_role("heading", name="Record first").wait_for()
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    assert api().get(f"{server}/buckets/shop/collections/orders/records/first").status_code == 200
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    page.get_by_role("heading", name="Collection orders").wait_for()
    assert api().get(f"{server}/buckets/shop/collections/orders/records/first").status_code == 404

    page.goto(f"{server}/admin/#/buckets/shop/attributes")
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    page.get_by_role("heading", name="Buckets", level=1).wait_for()
    assert api().get(f"{server}/buckets/shop").status_code == 403  # gone: nobody may read it
    assert errors == []


def test_a_concurrent_change_is_shown_as_a_conflict_and_never_overwritten_silently(server, page, errors):
    http = with_collection(server)
    url = f"{server}/buckets/b/collections/c/records/r"
    http.put(url, json={"data": {"title": "original"}}).raise_for_status()
    signed_in(page, server)
    page.goto(f"{server}/admin/#/buckets/b/collections/c/records/r")
    page.get_by_role("heading", name="Record r").wait_for()
    fill_json(page, '{"title": "mine"}')
    http.put(url, json={"data": {"title": "theirs"}}).raise_for_status()  # meanwhile, elsewhere
    page.get_by_role("button", name="Save").click()
    conflict = page.locator(".conflict")
    conflict.get_by_text("Conflict").wait_for()
    assert '"mine"' in conflict.locator("pre.mine").text_content()
    assert '"theirs"' in conflict.locator("pre.theirs").text_content()
    assert http.get(url).json()["data"]["title"] == "theirs"
    page.get_by_role("button", name="Overwrite with my version").click()
    page.get_by_text("Saved.").wait_for()
    assert http.get(url).json()["data"]["title"] == "mine"
    assert errors == [] or all("412" in error for error in errors)


def test_a_permission_given_in_the_page_lets_a_second_user_read_and_is_explained(server, browser, page, errors):
    http = api()
    http.put(f"{server}/buckets/b").raise_for_status()
    http.put(f"{server}/buckets/b/groups/readers", json={"data": {"members": ["account:bob"]}}).raise_for_status()
    http.put(f"{server}/buckets/b/collections/c").raise_for_status()
    http.put(f"{server}/buckets/b/collections/c/records/r", json={"data": {"x": 1}}).raise_for_status()
    assert api("bob").get(f"{server}/buckets/b/collections/c/records/r").status_code == 403
    signed_in(page, server)
    page.goto(f"{server}/admin/#/buckets/b/collections/c/permissions")
    page.get_by_label("read", exact=True).fill("/buckets/b/groups/readers")
    page.get_by_role("button", name="Save permissions").click()
    page.get_by_text("Permissions saved.").wait_for()
    bob_row = page.locator("tr[data-principal='account:bob']")
    bob_row.wait_for()
    assert bob_row.locator("td.read").text_content() == "read on collection c, as a member of group readers"
    assert bob_row.locator("td.write").text_content() == "—"
    alice_row = page.locator("tr[data-principal='account:alice']")
    assert "write on bucket b" in alice_row.locator("td.write").text_content()

    context = browser.new_context()
    second = context.new_page()
    signed_in(second, server, "bob")
    second.goto(f"{server}/admin/#/buckets/b/collections/c")
    second.locator("tr[data-id=r]").wait_for()
    second.goto(f"{server}/admin/#/buckets/b/collections/c/records/r")
    second.get_by_role("heading", name="Record r").wait_for()
    fill_json(second, '{"x": 2}')
    second.get_by_role("button", name="Save").click()
    second.get_by_role("alert").filter(has_text="Not allowed").wait_for()
    context.close()
    assert http.get(f"{server}/buckets/b/collections/c/records/r").json()["data"]["x"] == 1
    assert errors == []


def test_records_are_filtered_sorted_and_paged_by_the_server(server, page, errors):
    http = with_collection(server)
    batch = [
        {
            "method": "PUT",
            "path": f"/buckets/b/collections/c/records/r{n:02}",
            "body": {"data": {"n": n, "status": "done" if n % 3 == 0 else "todo"}},
        }
        for n in range(60)
    ]
    for start in range(0, 60, 25):
        http.post(f"{server}/batch", json={"requests": batch[start : start + 25]}).raise_for_status()
    signed_in(page, server)
    page.goto(f"{server}/admin/#/buckets/b/collections/c")
    rows = page.locator("table.objects tbody tr")
    rows.first.wait_for()
    assert rows.count() == 50  # one page
    page.get_by_text("60 in all").wait_for()
    page.get_by_role("link", name="Next page").click()
    expect(rows).to_have_count(10)

    page.goto(f"{server}/admin/#/buckets/b/collections/c")
    page.get_by_label("Field").fill("status")
    page.get_by_label("Value").fill("done")
    page.get_by_role("button", name="Filter").click()
    page.get_by_text("20 in all matching").wait_for()
    page.get_by_label("Field").fill("n")
    page.get_by_label("Operator").select_option("min_")
    page.get_by_label("Value").fill("30")
    page.get_by_role("button", name="Filter").click()
    page.get_by_text("10 in all matching").wait_for()
    page.get_by_role("link", name=re.compile(r"^n")).click()
    first_row = page.locator("table.objects tbody tr").first
    expect(first_row).to_have_attribute("data-id", "r30")
    ids = page.locator("table.objects tbody tr").evaluate_all("rows => rows.map(row => row.dataset.id)")
    assert ids == [f"r{n}" for n in range(30, 60, 3)]
    page.get_by_role("link", name=re.compile(r"^n")).click()
    expect(first_row).to_have_attribute("data-id", "r57")
    page.get_by_role("link", name="Remove filter min_n").click()
    page.get_by_text("20 in all matching").wait_for()
    assert errors == []


def test_the_open_list_and_editor_follow_changes_live_without_losing_edits(server, page, errors):
    http = with_collection(server)
    url = f"{server}/buckets/b/collections/c/records"
    http.put(f"{url}/kept", json={"data": {"title": "one"}}).raise_for_status()
    signed_in(page, server)
    page.goto(f"{server}/admin/#/buckets/b/collections/c")
    page.locator("tr[data-id=kept]").wait_for()
    page.locator("#live").wait_for()
    http.put(f"{url}/arrived", json={"data": {"title": "live"}}).raise_for_status()
    page.locator("tr[data-id=arrived].changed").wait_for(timeout=5000)

    page.goto(f"{server}/admin/#/buckets/b/collections/c/records/kept")
    page.get_by_role("heading", name="Record kept").wait_for()
    page.locator("#live").wait_for()
    http.put(f"{url}/kept", json={"data": {"title": "two"}}).raise_for_status()  # untouched editor: reloaded
    page.get_by_text("Updated from the server.").wait_for()
    assert '"two"' in page.get_by_label("JSON").input_value()
    fill_json(page, '{"title": "my unsaved edit"}')
    http.put(f"{url}/kept", json={"data": {"title": "three"}}).raise_for_status()
    page.get_by_text("This object was changed on the server").wait_for()
    assert page.get_by_label("JSON").input_value() == '{"title": "my unsaved edit"}'
    assert errors == []


def test_the_bucket_history_lists_changes_and_shows_what_one_changed(server, page, errors):
    http = with_collection(server)
    url = f"{server}/buckets/b/collections/c/records/r"
    http.put(url, json={"data": {"title": "before", "kept": 1}}).raise_for_status()
    http.put(url, json={"data": {"title": "after", "kept": 1, "added": True}}).raise_for_status()
    signed_in(page, server)
    page.goto(f"{server}/admin/#/buckets/b/history")
    rows = page.locator("table.objects tbody tr")
    rows.first.wait_for()
    assert rows.count() == 4  # bucket, collection, record created, record updated
    page.get_by_label("Field").fill("action")
    page.get_by_label("Value").fill("update")
    page.get_by_role("button", name="Filter").click()
    page.get_by_text("1 in all matching").wait_for()
    page.locator("table.objects tbody tr").first.locator("a").click()
    diff = page.locator("table.diff")
    diff.wait_for()
    changed = diff.locator("tbody tr").evaluate_all(
        "rows => rows.map(row => [row.className, row.cells[0].textContent])"
    )
    assert changed == [["added", "added"], ["changed", "title"]]
    assert errors == []


@pytest.fixture
def openid_server():
    from tests.backends import prepare
    from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OpenIDProvider

    prepare(BACKEND)
    provider = OpenIDProvider().start()
    settings = {
        **BASE_SETTINGS,
        **settings_for(BACKEND),
        "kinto.includes": "kinto.plugins.admin kinto.plugins.openid",
        "multiauth.policies": "keycloak basicauth",
        "multiauth.policy.keycloak.use": "kinto.plugins.openid.OpenIDConnectPolicy",
        "multiauth.policy.keycloak.issuer": provider.issuer,
        "multiauth.policy.keycloak.client_id": CLIENT_ID,
        "multiauth.policy.keycloak.client_secret": CLIENT_SECRET,
    }
    generator = _serve(settings)
    yield next(generator)
    next(generator, None)
    provider.stop()


def test_sign_in_with_openid_connect_through_the_provider(openid_server, page, errors):
    page.goto(f"{openid_server}/admin/")
    page.get_by_role("button", name="Sign in with keycloak").click()
    page.get_by_role("heading", name="Buckets", level=1).wait_for()
    assert page.locator("#whoami").text_content() == "keycloak:alice"
    assert "#/auth/" not in page.url  # the tokens are not left in the address bar
    assert page.evaluate("localStorage.length") == 0
    assert errors == []


def test_a_record_is_edited_through_the_form_of_its_collections_schema(server, page, errors):
    schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string", "title": "Title"},
            "done": {"type": "boolean"},
            "priority": {"type": "integer", "minimum": 0},
            "size": {"enum": ["S", "M", "L"]},
        },
        "required": ["title"],
    }
    http = with_collection(server, data={"schema": schema})
    url = f"{server}/buckets/b/collections/c/records/r"
    http.put(url, json={"data": {"title": "first", "priority": 1, "extra": [1]}}).raise_for_status()
    signed_in(page, server)
    page.goto(f"{server}/admin/#/buckets/b/collections/c/records/r")
    page.get_by_label("Title").fill("renamed")
    page.get_by_label("done").check()
    page.get_by_label("size").select_option("M")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved.").wait_for()
    stored = http.get(url).json()["data"]
    del stored["last_modified"], stored["schema"]  # the server's: the version of the schema it was checked with
    assert stored == {
        "id": "r",
        "title": "renamed",
        "done": True,
        "priority": 1,
        "size": "M",
        "extra": [1],  # not in the schema: kept as it was
    }
    page.get_by_label("priority").fill("-3")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("alert").filter(has_text="priority").wait_for()  # the server's 400, shown
    assert http.get(url).json()["data"]["priority"] == 1
    page.get_by_role("button", name="Edit as JSON").click()
    assert '"priority": -3' in page.get_by_label("JSON").input_value()
    assert errors == [] or all("400" in error for error in errors)


def test_a_file_is_attached_downloaded_kept_on_edits_and_removed(server, page, errors, tmp_path):
    http = with_collection(server)
    url = f"{server}/buckets/b/collections/c/records/r"
    http.put(url, json={"data": {"title": "with a file"}}).raise_for_status()
    source = tmp_path / "notes.txt"
    source.write_text("the notes")
    signed_in(page, server)
    page.goto(f"{server}/admin/#/buckets/b/collections/c/records/r")
    page.get_by_text("No file attached.").wait_for()
    page.get_by_label("File to attach").set_input_files(str(source))
    page.get_by_role("button", name="Attach file").click()
    page.get_by_text("notes.txt").wait_for()
    attachment = http.get(url).json()["data"]["attachment"]
    assert (attachment["filename"], attachment["size"]) == ("notes.txt", 9)
    with page.expect_download() as downloaded:
        page.get_by_role("button", name="Download").click()
    assert downloaded.value.suggested_filename == "notes.txt"
    assert Path(downloaded.value.path()).read_text() == "the notes"
    assert '"attachment"' not in page.get_by_label("JSON").input_value()  # never edited by hand
    fill_json(page, '{"title": "renamed"}')
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved.").wait_for()
    data = http.get(url).json()["data"]
    assert data["title"] == "renamed" and data["attachment"] == attachment  # kept
    page.get_by_role("button", name="Remove file").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    page.get_by_text("No file attached.").wait_for()
    assert http.get(url).json()["data"]["attachment"] is None
    assert errors == []
