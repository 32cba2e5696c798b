"""The clinic as a user sees it: a real headless Chromium (Debian's ``chromium`` and ``chromium-driver``, driven
by Selenium) uploads a clip on the upload page, waits for the result, opens the clip page and the athlete page,
and saves a screenshot of each. ``.ci/run`` installs Chromium; this test does not skip.

Set ``BUTTWINK_SCREENSHOTS=DIR`` to keep the screenshots (the README's athlete-page picture is made so)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from clinic_helpers import post_clip, render_one_rep, serving, wait_for

pytestmark = pytest.mark.slow
CHROMIUM = os.environ.get("BUTTWINK_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("BUTTWINK_CHROMEDRIVER", "/usr/bin/chromedriver")


@pytest.fixture
def browser(tmp_path: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), (
        f"{CHROMIUM} and {CHROMEDRIVER} are needed: apt-get install chromium chromium-driver (.ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1200,1000", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def image_loaded(driver, element_id: str) -> bool:
    return bool(driver.execute_script(
        "const i = document.getElementById(arguments[0]); return i && i.complete && i.naturalWidth > 0;", element_id))


def screenshot(driver, path: Path) -> None:
    """A full-page screenshot (the window grown to the page's height)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1200, min(max(int(height), 600), 4000))
    driver.save_screenshot(str(path))
    keep = os.environ.get("BUTTWINK_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)


def test_upload_wait_and_open_the_clip_and_athlete_pages(browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    before = render_one_rep(tmp_path / "before", seed=12, wink_deg=15.0, onset_depth_deg=10.0)
    after = render_one_rep(tmp_path / "after", seed=11, wink_deg=6.0, onset_depth_deg=-8.0)
    with serving(tmp_path / "data", tmp_path / "server.log") as server:
        status, body = post_clip(server.url, before, "Sam Park", "2026-09-01")  # an earlier session, by the API
        assert status == 202, body
        browser.get(server.url + "/")
        assert "Upload squat clips" in browser.page_source
        browser.find_element(By.ID, "athlete").send_keys("Sam Park")
        browser.execute_script("document.getElementById('session_date').value = '2026-10-20';")
        browser.find_element(By.ID, "files").send_keys(str(after))
        browser.find_element(By.ID, "send").click()

        def result_link():
            links = browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr td:nth-child(3) a")
            return links[0] if links else None

        statuses = set()

        def done_or_note():
            cells = browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr td:nth-child(2)")
            statuses.update(c.text.split(" ")[0] for c in cells)
            assert not any(c.text == "refused" for c in cells), browser.page_source
            return result_link()

        link = wait_for(done_or_note, 180, "the uploaded clip's result on the upload page", every=0.5)
        assert "analysing" in statuses or "queued" in statuses, statuses

        def recent_done() -> bool:  # the list of recent clips follows the earlier upload live, without a reload
            cells = browser.find_elements(By.CSS_SELECTOR, "#recent tbody tr[data-id] td:nth-child(5)")
            return bool(cells) and all(c.text == "done" for c in cells)

        wait_for(recent_done, 120, "the recent clips list to show the earlier upload done", every=0.5)
        screenshot(browser, tmp_path / "upload.png")
        link.click()
        wait_for(lambda: image_loaded(browser, "report"), 30, "the report image on the clip page")
        assert browser.find_element(By.ID, "verdict").text
        assert len(browser.find_elements(By.CSS_SELECTOR, "#reps tbody tr")) == 1
        assert browser.find_element(By.LINK_TEXT, "reps.csv")
        screenshot(browser, tmp_path / "clip.png")

        browser.find_element(By.LINK_TEXT, "Sam Park").click()
        wait_for(lambda: browser.find_elements(By.ID, "chart"), 30, "the athlete page")
        wait_for(lambda: all(image_loaded(browser, "chart") for _ in [0]), 60, "the progress chart", every=0.5)

        def both_sessions():
            rows = browser.find_elements(By.CSS_SELECTOR, "#sessions tbody tr")
            return len(rows) == 2 or browser.refresh()

        wait_for(both_sessions, 180, "both sessions on the athlete page", every=2.0)
        wait_for(lambda: image_loaded(browser, "chart"), 60, "the progress chart", every=0.5)
        rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#sessions tbody tr")]
        assert rows[0].startswith("2026-09-01") and rows[1].startswith("2026-10-20"), rows
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()  # before and after
        wait_for(lambda: browser.find_elements(By.ID, "compare"), 30, "the side-by-side comparison")
        shot = tmp_path / "athlete.png"
        screenshot(browser, shot)
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:4] == b"\x89PNG"
