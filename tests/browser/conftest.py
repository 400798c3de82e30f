"""Browser tests: real headless Chromium (Debian's /usr/bin/chromium, `make browser`) driven by
Playwright against the stack `make run` starts (`python -m launcher`, market simulation
included), serving the built web app (`make web`). Controls are found by role and
accessible name; every page's console errors and uncaught exceptions are collected for the tests
to assert on."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Playwright, sync_playwright

from tests.launched import REPO, Launched, launch

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
ARTIFACTS = REPO / "build" / "artifacts"
DESKTOP = {"width": 1440, "height": 900}
# The admin API's token of the stack (tests/browser/test_market_halt.py halts a market with it).
ADMIN_TOKEN = "browser-" + uuid.uuid4().hex
PHONE = {"width": 390, "height": 844}


@dataclass
class Watched:
    """A page and the console errors and page errors it produced."""

    page: Page
    base: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def problems(self, allowed: tuple[str, ...] = ()) -> list[str]:
        """Console errors (except those containing one of `allowed`) and every page error."""
        kept = [e for e in self.console_errors if not any(a in e for a in allowed)]
        return kept + [f"page error: {e}" for e in self.page_errors]

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(scope="package")
def exchange(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Launched]:
    """`make run`'s stack (with the built web app) for the browser tests (stopped after the last of
    them), market simulation included: the page is tested and its budgets measured under the busy
    feed a user of `make run` sees (the simulation's agents trading every market)."""
    index = REPO / "web" / "dist" / "index.html"
    assert index.is_file(), "the web app is not built: run `make web`"
    run_dir = tmp_path_factory.mktemp("web-run") / ".run"
    # Every browser test's pages come from 127.0.0.1, one client IP for Binance's request-weight
    # limit: the screenshot and accessibility tests alone load each page in 3 sizes and 2 themes
    # within a minute, past 6000. The limit is tested in tests/integration, not here.
    with launch(run_dir, redis_url, ADMIN_TOKEN=ADMIN_TOKEN, RATE_LIMIT_IP_WEIGHT_PER_MINUTE="0") as running:
        yield running


@pytest.fixture(scope="package")
def playwright(exchange: Launched) -> Iterator[Playwright]:
    """Playwright's sync API, started after (so stopped before) the stack, whose clean-up needs
    an event loop of its own."""
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def watch(
    browser: Browser,
    base: str,
    viewport: dict[str, int] = DESKTOP,
    timezone_id: str | None = None,
    color_scheme: Literal["light", "dark"] | None = None,
) -> Watched:
    """A page in a fresh context of `viewport` size, in the time zone `timezone_id` and with the
    system colour scheme `color_scheme` (else the machine's)."""
    context = browser.new_context(
        base_url=base,
        viewport=viewport,  # type: ignore[arg-type]
        timezone_id=timezone_id,
        color_scheme=color_scheme,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    watched = Watched(page, base)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def on_page_error(error: Error) -> None:
        watched.page_errors.append(str(error))

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    return watched


@pytest.fixture
def web(browser: Browser, exchange: Launched) -> Iterator[Watched]:
    """A fresh browser context (no cookies) on the exchange's web page, desktop-sized."""
    watched = watch(browser, exchange.field("Web page"))
    yield watched
    watched.page.context.close()
