"""The admin page's screenshots in docs/, taken in headless Chromium on a
server of this checkout (memory backend, sample data).

    python docs/screenshots.py   # make screenshots
"""

import threading
from pathlib import Path

import requests
from waitress.server import create_server

from kinto_server import main

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
SETTINGS = {
    "kinto.userid_hmac_secret": "screenshots",
    "kinto.includes": "kinto.plugins.admin kinto.plugins.accounts kinto.plugins.history",
    "kinto.multiauth.policies": "account basicauth",
    "kinto.account_create_principals": "system.Everyone",
    "kinto.account_hash_rounds": "4",
    "kinto.bucket_create_principals": "system.Authenticated",
}
PASSWORD = "a-long-password"
TASKS = ["Write the report", "Book the train", "Call the plumber", "Renew the passport", "Water the plants"]


def serve():
    server = create_server(main({}, **SETTINGS), host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    return f"http://127.0.0.1:{server.effective_port}/v1"


def seed(url):
    for name in ("alice", "bob"):
        requests.put(f"{url}/accounts/{name}", json={"data": {"password": PASSWORD}}).raise_for_status()
    http = requests.Session()
    http.auth = ("alice", PASSWORD)
    http.put(f"{url}/buckets/home").raise_for_status()
    http.put(f"{url}/buckets/home/groups/family", json={"data": {"members": ["account:bob"]}}).raise_for_status()
    collection = {
        "data": {"displayFields": ["title", "status", "priority"]},
        "permissions": {"read": ["/buckets/home/groups/family"]},
    }
    http.put(f"{url}/buckets/home/collections/tasks", json=collection).raise_for_status()
    for n, title in enumerate(TASKS * 3):
        record = {"title": title, "status": "done" if n % 3 == 0 else "todo", "priority": n % 4}
        http.put(f"{url}/buckets/home/collections/tasks/records/t{n:02}", json={"data": record}).raise_for_status()
    return http


def main_():
    from playwright.sync_api import sync_playwright

    url = serve()
    http = seed(url)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 720})
        page.goto(f"{url}/admin/")
        page.get_by_label("User name").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Buckets", level=1).wait_for()

        page.goto(f"{url}/admin/#/buckets/home/collections/tasks?status=todo&_sort=-priority")
        page.get_by_text("in all matching").wait_for()
        page.screenshot(path=HERE / "admin-records.png")

        page.goto(f"{url}/admin/#/buckets/home/collections/tasks/records/t01")
        page.get_by_role("heading", name="Record t01").wait_for()
        page.get_by_label("JSON").fill(
            '{\n  "title": "Book the train to Lyon",\n  "status": "todo",\n  "priority": 1\n}'
        )
        record = f"{url}/buckets/home/collections/tasks/records/t01"
        http.put(record, json={"data": {"title": "Book the train", "status": "done", "priority": 1}}).raise_for_status()
        page.get_by_role("button", name="Save").click()
        page.locator(".conflict").wait_for()
        page.screenshot(path=HERE / "admin-conflict.png", full_page=True)

        page.goto(f"{url}/admin/#/buckets/home/collections/tasks/permissions")
        page.locator(".effective table").wait_for()
        page.screenshot(path=HERE / "admin-permissions.png", full_page=True)
        browser.close()
    for name in ("admin-records.png", "admin-conflict.png", "admin-permissions.png"):
        print(HERE / name)


if __name__ == "__main__":
    main_()
