import os
import shutil

import pytest

from tests.backends import IN_CI

CHROMIUM = os.environ.get("KINTO_TEST_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium, driven by Playwright; skipped (failed in
    CI) when it is not installed (`make test` installs it)."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        reason = f"Chromium is not installed at {CHROMIUM} (make test installs Debian's chromium)"
        if IN_CI:
            pytest.fail(f"Browser tests are mandatory in CI. {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()
