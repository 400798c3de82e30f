"""axe-core (web/node_modules/axe-core, injected into the page) finds no serious or critical
accessibility violation on any page (markets, log in, sign up, the trade page signed out and in
with its history tabs and their filters, the account with a new API key and its editor, an
unknown page), in either theme, on a desktop and on a phone."""

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, PHONE, watch
from tests.browser.pages import new_email, sign_up
from tests.launched import REPO, Launched

AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"


def violations(page: Page) -> list[str]:
    """The serious and critical axe-core violations of the page as shown: "rule: target" lines."""
    page.add_script_tag(path=str(Path(AXE)))
    found: list[dict[str, object]] = page.evaluate(
        """async () => (await axe.run(document, { resultTypes: ["violations"] })).violations
          .filter(v => v.impact === "serious" || v.impact === "critical")
          .map(v => ({ id: v.id, targets: v.nodes.slice(0, 3).map(n => n.target.join(" ")) }))"""
    )
    return [f"{v['id']}: {v['targets']}" for v in found]


def test_no_serious_violations_on_any_page_in_either_theme(browser: Browser, exchange: Launched) -> None:
    assert AXE.is_file(), "axe-core is not installed: run `make web`"
    for viewport in (DESKTOP, PHONE):
        for scheme in ("light", "dark"):
            web = watch(browser, exchange.field("Web page"), viewport, color_scheme=scheme)
            page = web.page
            found: dict[str, list[str]] = {}
            for path, ready in (
                ("/", page.get_by_role("heading", name="Markets")),
                ("/login", page.get_by_role("button", name="Log in")),
                ("/signup", page.get_by_role("button", name="Sign up")),
                ("/trade/BTCUSDT", page.get_by_role("group", name="Bids").get_by_role("button").first),
                ("/no/such/page", page.get_by_role("heading", name="Page not found")),
            ):
                page.goto(path)
                expect(ready).to_be_visible()
                found[path] = violations(page)
            page.goto("/")
            sign_up(page, new_email())
            found["/account"] = violations(page)
            form = page.get_by_role("form", name="Create API key")
            form.get_by_label("Key label").fill("axe")
            form.get_by_role("button", name="Create API key").click()
            expect(page.get_by_role("region", name="New API key")).to_be_visible()
            page.get_by_role("button", name="Edit API key axe").click()
            expect(page.get_by_role("region", name="Edit API key axe")).to_be_visible()
            found["/account with a new key and its editor"] = violations(page)
            page.goto("/trade/BTCUSDT")
            expect(page.get_by_role("tab", name="Open orders (0)")).to_be_visible()
            found["/trade/BTCUSDT signed in"] = violations(page)
            for tab in ("Order history", "Trade history"):
                page.get_by_role("tab", name=tab).click()
                expect(page.get_by_role("table", name=tab)).not_to_have_attribute("aria-busy", "true")
                found[f"/trade/BTCUSDT {tab}"] = violations(page)
            page.context.close()
            bad = {path: v for path, v in found.items() if v}
            assert bad == {}, (viewport, scheme, bad)
