"""The evidence page in a real headless Chromium (Debian's `chromium` and `chromium-driver`, driven by Selenium;
no browser is downloaded). The app is served by uvicorn on a free loopback port; the browser opens the very
link the API returned (signed, since API_KEYS is set), focuses a casualty fact and checks exactly its cited
sentences are lit, chooses a sentence and checks the facts listed, and saves docs/evidence-page.png.

Without the browser the test skips with the reason, except in CI (`CI` set), where it fails: `.ci/run`
installs the browser."""

from __future__ import annotations

import base64
import os
import shutil
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from service.config import Settings
from service.main import create_app
from service.result import SummaryResult
from tests.conftest import FakeEngine, checkpoint_summary, sample_text

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "evidence-page.png"
KEY = "k-0123456789abcdef-browser"
SECRET = "browser-test-view-link-secret-0123456789"


def _browser_or_skip() -> None:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if shutil.which(path) is None]
    if missing:
        reason = f"no {' and no '.join(missing)}: apt-get install -y chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(f"the browser test must run in CI: {reason}")
        pytest.skip(reason)


class LiveServer:
    """The app under uvicorn in a thread, on a loopback socket bound before the app is built (so the app's
    PUBLIC_BASE_URL is its own address)."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        settings = Settings(
            engine="extractive",
            cache_url="memory://",
            api_keys=KEY,
            public_base_url=self.base_url,
            view_link_secret=SECRET,
        )
        # the checkpoint summary a good model writes, less its dispute (the judge finds one source ungrounded)
        engine = FakeEngine(build=lambda article: checkpoint_summary().model_copy(update={"disputes": []}))
        # log_config=None: uvicorn leaves the process's logging alone (the other tests' loggers stay as they are)
        config = uvicorn.Config(create_app(settings, engine=engine), log_config=None, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        ready = threading.Event()
        for _ in range(200):
            if self.server.started:
                ready.set()
                break
            ready.wait(0.05)
        if not ready.is_set():
            pytest.fail("uvicorn did not start within 10 s")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


@pytest.fixture
def live_server() -> Iterator[LiveServer]:
    with LiveServer() as server:
        yield server


@pytest.fixture
def browser() -> Iterator[Any]:
    _browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1280,900")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def _citing(summary: dict[str, Any], sentence_id: str) -> list[str]:
    """The page ids of the facts that cite `sentence_id`, in the page's order, read from the JSON summary."""
    ids = [f"fact-summary-{i}" for i, st in enumerate(summary["summary"]) if sentence_id in st["citations"]]
    if summary["date"] and sentence_id in summary["date"]["citations"]:
        ids.append("fact-date")
    for key, field in (
        ("place", "locations"),
        ("actor", "actors"),
        ("casualties", "casualties"),
        ("claim", "claims"),
    ):
        ids += [
            f"fact-{key}-{i}" for i, item in enumerate(summary[field]) if sentence_id in item["citations"]
        ]
    return ids


def test_a_focused_fact_lights_exactly_its_sentences_and_a_chosen_sentence_lists_its_facts(
    live_server: LiveServer, browser: Any
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.wait import WebDriverWait

    created = httpx.post(
        f"{live_server.base_url}/v1/summaries",
        json={"text": sample_text("syria_checkpoint_shootout")},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=30,
    )
    assert created.status_code == 200, created.text
    result = SummaryResult.model_validate(created.json())
    link = result.links.view
    assert link is not None and "?token=" in link and KEY not in link

    browser.get(link)  # the link exactly as the API gave it: no bearer key in a browser
    WebDriverWait(browser, 10).until(
        lambda d: "js" in (d.find_element(By.TAG_NAME, "html").get_attribute("class") or "")
    )  # the script loaded and ran under the page's Content-Security-Policy

    def lit() -> list[str]:
        return [e.get_attribute("id") for e in browser.find_elements(By.CSS_SELECTOR, ".sentence.lit")]

    def in_view(sentence_id: str) -> bool:
        script = (
            "const r = document.getElementById(arguments[0]).getBoundingClientRect();"
            "return r.top >= 0 && r.bottom <= window.innerHeight;"
        )
        return bool(browser.execute_script(script, sentence_id))

    # a statement with several citations first, then the casualty fact: only the casualty's stay lit
    statement = browser.find_element(By.CSS_SELECTOR, "#fact-summary-0 .fact-button")
    browser.execute_script("arguments[0].focus()", statement)
    assert lit() == list(dict.fromkeys(result.summary.summary[0].citations))
    [casualty] = result.summary.casualties[:1]
    casualty_button = browser.find_element(By.CSS_SELECTOR, "#fact-casualties-0 .fact-button")
    casualty_button.send_keys(Keys.SHIFT)  # a key press on the button focuses it, as a keyboard reader would
    assert browser.switch_to.active_element == casualty_button
    assert lit() == sorted(set(casualty.citations), key=lambda sid: int(sid[1:]))
    assert casualty_button.get_attribute("aria-pressed") == "true"
    WebDriverWait(browser, 5).until(lambda d: in_view(casualty.citations[0]))  # scrolled to the first
    status = browser.find_element(By.ID, "status").text
    assert status == "Cited sentences lit: " + ", ".join(lit())
    SCREENSHOT.parent.mkdir(exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))

    # choosing a sentence lists exactly the facts that cite it
    chosen = casualty.citations[0]
    browser.find_element(By.CSS_SELECTOR, f"#{chosen} .sentence-button").click()
    expected = [
        browser.find_element(By.CSS_SELECTOR, f"#{fact_id} .fact-button").text
        for fact_id in _citing(created.json()["summary"], chosen)
    ]
    listed = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#citing-list li")]
    assert len(expected) >= 3 and listed == expected
    assert browser.find_element(By.ID, "citing-sid").text == chosen
    assert (
        browser.find_element(By.CSS_SELECTOR, f"#{chosen} .sentence-button").get_attribute("aria-pressed")
        == "true"
    )

    # by keyboard: Enter on an uncited sentence says no fact cites it
    cited = set(result.summary.citation_ids())
    uncited = next(s.id for s in result.sentences if s.id not in cited)
    browser.find_element(By.CSS_SELECTOR, f"#{uncited} .sentence-button").send_keys(Keys.ENTER)
    assert browser.find_elements(By.CSS_SELECTOR, "#citing-list li") == []
    assert browser.find_element(By.ID, "citing-none").is_displayed()

    # hovering a fact lights its sentences too; Escape clears them
    [actor] = [a for a in result.summary.actors if a.citations != casualty.citations][:1]
    index = result.summary.actors.index(actor)
    hovered = browser.find_element(By.CSS_SELECTOR, f"#fact-actor-{index} .fact-button")
    ActionChains(browser).move_to_element(hovered).perform()
    assert lit() == sorted(set(actor.citations), key=lambda sid: int(sid[1:]))
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    assert lit() == []

    # on paper: the controls and the list of citing facts are left out, the facts are not a scrolling panel
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    style = "return getComputedStyle(document.querySelector(arguments[0]))[arguments[1]]"
    assert browser.execute_script(style, ".hint", "display") == "none"
    assert browser.execute_script(style, "#citing", "display") == "none"
    assert browser.execute_script(style, ".facts", "position") == "static"
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert base64.b64decode(browser.print_page()).startswith(b"%PDF")

    # a phone's width: one column, nothing wider than the screen
    browser.set_window_size(390, 844)
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")

    problems = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert problems == []  # no CSP violation, no script error


def test_without_the_browser_the_test_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium chromium-driver"):
        _browser_or_skip()
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="must run in CI"):
        _browser_or_skip()
