"""The trade page stays live for WEB_SOAK_SECONDS (default 300: 5 minutes) with its memory under
200 MB: the JS heap (CDP Performance.getMetrics) and the renderer process (proportional set size
from /proc) are sampled all along; at the end the page still updates. Figures go to
build/artifacts/web-soak.json."""

import json
import os
import time
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, Watched
from tests.browser.pages import new_email, sign_up

SOAK_SECONDS = float(os.environ.get("WEB_SOAK_SECONDS", "300"))
SAMPLE_SECONDS = 15.0
LIMIT_MB = 200.0
MB = 1024 * 1024


def descendants(root: int) -> list[int]:
    """Process ids below `root` (from /proc's parent links)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def renderer_pss_mb() -> float:
    """The largest proportional set size among this test's Chromium renderer processes, in MB."""
    largest = 0.0
    for pid in descendants(os.getpid()):
        try:
            if b"--type=renderer" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                continue
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        pss_kb = next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))
        largest = max(largest, pss_kb / 1024)
    return largest


def js_heap_mb(page: Page) -> float:
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("Performance.enable")
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    finally:
        cdp.detach()
    return float(metrics["JSHeapUsedSize"]) / MB


def test_the_trade_page_stays_live_for_five_minutes_under_200_mb(web: Watched) -> None:
    page = web.page
    page.goto("/")
    sign_up(page, new_email())
    page.goto("/trade/BTCUSDT")
    status = page.get_by_role("status", name="Connection")
    expect(status).to_have_text("Live")
    legend = page.get_by_role("status", name="Candle")
    expect(legend).to_contain_text("C ")

    samples: list[dict[str, float]] = []
    started = time.monotonic()
    while True:
        elapsed = time.monotonic() - started
        samples.append(
            {"s": round(elapsed, 1), "js_heap_mb": js_heap_mb(page), "renderer_mb": renderer_pss_mb()}
        )
        if elapsed >= SOAK_SECONDS:
            break
        page.wait_for_timeout(min(SAMPLE_SECONDS, SOAK_SECONDS - elapsed) * 1000)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "web-soak.json").write_text(
        json.dumps({"seconds": SOAK_SECONDS, "samples": samples}, indent=1)
    )
    heap = max(s["js_heap_mb"] for s in samples)
    renderer = max(s["renderer_mb"] for s in samples)
    print(f"web soak {SOAK_SECONDS:.0f} s: JS heap max {heap:.1f} MB, renderer PSS max {renderer:.1f} MB")
    assert renderer > 0, "no renderer process found"
    assert heap < LIMIT_MB and renderer < LIMIT_MB, samples

    # Still live: the connection is up and the market data keeps moving.
    expect(status).to_have_text("Live")
    recent = page.get_by_role("table", name="Recent trades").get_by_role("row").nth(1)
    before = recent.inner_text()
    expect(recent).not_to_have_text(before, timeout=30_000)
    assert web.problems() == []
