"""The citizens' portal in real headless Chromium against the local stack, over real HTTP.

Debian's chromium (``/usr/bin/chromium``) is driven by Playwright; no browser is downloaded.
Without it the tests skip on a developer's machine and fail under CI (``.ci/run`` installs it).
Screenshots of each page go to ``.local/screens/`` for a reviewer.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Stack

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "portal" / "node_modules" / "axe-core" / "axe.min.js"
SCREENS = ROOT / ".local" / "screens"
# The same flags as the machine's own check of Chromium: no background traffic to the outside.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
EIGHT_STANDARDS = ["事项名称", "承办单位", "办事程序", "资料要求", "承诺时限（工作日）", "收费标准",
                   "下载表格", "法律依据"]
# An item fully online, reviewed by three departments in parallel before the lead decides.
ITEM_NAME = "企业投资项目核准"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI must have it: .ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is absent (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (requirements-dev.txt)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, stack: Stack) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.problems = []  # console errors (a CSP violation among them) and page errors
    opened.on("console", lambda m: m.type == "error" and opened.problems.append(m.text))
    opened.on("pageerror", lambda e: opened.problems.append(str(e)))
    yield opened
    context.close()


def portal(stack: Stack) -> str:
    url = stack.state.get("portal_url")
    assert url, f"stack.json has no portal_url: {stack.state}"
    return str(url)


def screenshot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now."""
    if not AXE.exists():
        pytest.fail(f"{AXE} missing: the portal's packages were not installed")
    # Evaluated through the DevTools protocol, which the page's CSP does not govern.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']}))
             .violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
             .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}))""")
    return found


def test_portal_is_served_next_to_the_api_with_a_strict_csp(stack: Stack) -> None:
    url = portal(stack)
    assert url.startswith("http://127.0.0.1:")
    index = stack.http.get(url + "/", timeout=10)
    assert index.status_code == 200
    csp = index.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    # Every script is a file of the portal's own: nothing inline for the CSP to allow.
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", index.text, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert "style=" not in index.text and "<style" not in index.text
    # /api/… reaches the API: one origin, so no CORS is needed.
    proxied = stack.http.get(url + "/api/departments", timeout=10)
    direct = stack.http.get(stack.api + "/departments", timeout=10)
    assert proxied.status_code == 200 and proxied.json() == direct.json()
    missing = stack.http.get(url + "/api/services/no-such-item", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "UNKNOWN_SERVICE"


def test_search_open_item_and_read_the_eight_standards_in_chinese(page: Any,
                                                                   stack: Stack) -> None:
    response = page.goto(portal(stack) + "/")
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.get_by_role("heading", name="查找办理事项").wait_for()
    page.locator("[data-dept]").first.wait_for()
    assert re.search(r"\d+ 项，全程网办 \d+ 项", page.locator("[data-dept]").first.inner_text())
    assert serious_violations(page) == []
    screenshot(page, "home")

    page.get_by_label("关键词").fill(ITEM_NAME)
    page.get_by_role("button", name="搜索").click()
    link = page.get_by_role("link", name=ITEM_NAME, exact=True)
    link.wait_for()
    row = page.locator(".item", has=link)
    assert "全程网办" in row.inner_text()
    link.click()

    page.get_by_role("heading", level=1, name=ITEM_NAME).wait_for()
    assert page.locator("dt[data-key]").all_inner_texts() == EIGHT_STANDARDS
    assert "市发展和改革局" in page.locator("dl.standards").inner_text()
    review = page.locator("ol.stages").inner_text()
    assert "以下部门并联审查" in review
    for department in ("市规划局", "市国土资源局", "市环境保护局"):
        assert department in review
    assert page.get_by_role("link", name="在线申报").is_visible()
    assert serious_violations(page) == []
    screenshot(page, "item")

    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="The eight public standards").wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Apply online").is_visible()
    screenshot(page, "item-en")
    page.go_back()  # the search is kept in the address: the same list comes back
    page.get_by_role("link", name=ITEM_NAME, exact=True).wait_for()
    assert page.problems == []


def test_track_shows_the_api_error_in_plain_chinese(page: Any, stack: Stack) -> None:
    page.goto(portal(stack) + "/#/track")
    page.get_by_label("回执编号").fill("NO-SUCH-RECEIPT")
    page.get_by_label("查询码").fill("WRONGCODE")
    page.get_by_role("button", name="查询").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "未找到该受理号，或查询码不正确" in alert.inner_text()
    assert serious_violations(page) == []
    screenshot(page, "track-error")
    # A 404 is logged by the browser as a failed resource; nothing else may be.
    assert [p for p in page.problems if "404" not in p] == []


def test_track_a_real_case_in_review(page: Any, stack: Stack) -> None:
    # Submitted the way the banner tells a newcomer to (the portal's own apply page is next).
    example = stack.state["demo"]["example"].replace("{api}", stack.api).split()[1:]
    done = subprocess.run([sys.executable, "-m", "tools.client", *example], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    accepted = json.loads(done.stdout)
    receipt, code = accepted["receipt"], accepted["tracking_code"]
    stack.wait_for(lambda: stack.http.get(f"{stack.api}/track/{receipt}", params={"code": code},
                                          timeout=10).json()["status"] == "IN_REVIEW")

    page.goto(portal(stack) + "/#/track")
    page.get_by_label("回执编号").fill(receipt)
    page.get_by_label("查询码").fill(code)
    page.get_by_role("button", name="查询").click()
    status = page.get_by_test_id("status")
    status.wait_for()
    assert status.inner_text() == "审查中"
    timeline = page.locator("ol.timeline").inner_text()
    assert "已受理" in timeline and "审查中" in timeline and "已通知申请人（" in timeline
    assert re.search(r"剩余 \d+ 个工作日，应于", page.locator("section").inner_text())
    assert serious_violations(page) == []
    screenshot(page, "track")
    assert page.problems == []


def test_narrow_screen_keeps_search_usable(browser: Any, stack: Stack) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 800})
    try:
        page = context.new_page()
        page.goto(portal(stack) + "/")
        page.locator("[data-dept]").first.wait_for()
        page.locator(".items li").first.wait_for()  # the results, shown first on a phone
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the page scrolls sideways at 375 px ({width} px wide)"
        screenshot(page, "home-375")
    finally:
        context.close()
