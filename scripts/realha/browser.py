"""Browser test: what a user does and reads, in a real Home Assistant.

    .venv/bin/python -m scripts.realha.browser [--version X] [--headed]

Playwright drives Chromium (Debian's `chromium`, or $CHROMIUM) against a
real `hass` (the release the test suite pins) and the local Deepgram
server: log in; add the integration through "Add integration" (a wrong key
first: the error; then the right key, with the endpoint in the Advanced
section); add a second speech-to-text profile; reconfigure it; choose it as
the Assist pipeline's speech-to-text; run a voice command through it. Every
screen is checked for raw translation keys and unfilled placeholders, and
for the integration's own texts from `strings.json`. Screenshots go to
`artifacts/browser/screenshots/` (git-ignored).

It also checks what issue 8 found wrong in the UI: profiles named after
their model and options (item 1), renaming on reconfigure (1), the
integration's own success text (2), the Advanced section kept open on its
error (3), no clickable example URL (6).
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import re
import shutil
import sys
import time
from typing import Any

from playwright.async_api import Page, async_playwright

from .harness import KEY, PASSWORD, USERNAME, Running, running
from .instance import INTEGRATION, HassClient
from .smoke import problems
from .voice import run_voice_command

PROFILE_NAME = "Deepgram nova-2 (multilingual)"
RENAMED = "Deepgram kitchen"

DEEP_TEXT = """() => {
  const parts = [];
  const walk = (root) => {
    for (const node of root.childNodes) {
      if (node.nodeType === 3) {
        const text = node.textContent.trim();
        if (text) parts.push(text);
      } else if (node.nodeType === 1) {
        if (node.tagName === 'STYLE' || node.tagName === 'SCRIPT') continue;
        if (node.shadowRoot) walk(node.shadowRoot);
        walk(node);
      }
    }
  };
  walk(document.body);
  return parts.join('\\n');
}"""

RAW_KEY = re.compile(
    r"component\.deepgram|config_subentries\.|\bconfig\.(step|error|abort)\."
    r"|\{[a-z_]+\}"
)


def strings() -> dict[str, Any]:
    """The integration's English texts."""
    return dict(json.loads((INTEGRATION / "strings.json").read_text()))


def keys_of(texts: dict[str, Any]) -> set[str]:
    """Error and abort keys: shown raw when a translation is missing."""
    found: set[str] = set()
    for part in (texts["config"], *texts.get("config_subentries", {}).values()):
        found.update(part.get("error", {}))
        found.update(part.get("abort", {}))
    return found


@dataclass
class Report:
    """Checks done and failures."""

    shots: Path
    failures: list[str] = field(default_factory=list)
    count: int = 0
    screens: int = 0

    def check(self, ok: bool, what: str) -> None:
        """A check that fails the test."""
        self.count += 1
        if not ok:
            self.failures.append(what)
            print(f"  FAIL {what}", flush=True)

    async def screen(self, page: Page, name: str, *expected: str) -> str:
        """Screenshot, then check the screen's text: no raw keys, `expected` shown."""
        await page.wait_for_timeout(400)  # dialogs animate in
        self.screens += 1
        path = self.shots / f"{self.screens:02d}-{name}.png"
        await page.screenshot(path=str(path))
        text = str(await page.evaluate(DEEP_TEXT))
        raw = RAW_KEY.findall(text)
        self.check(not raw, f"{name}: raw translation keys or placeholders {raw}")
        words = set(re.findall(r"[a-z_]+", text))
        leaked = sorted(words & keys_of(strings()))
        self.check(not leaked, f"{name}: raw error/abort keys shown: {leaked}")
        for wanted in expected:
            self.check(wanted in text, f"{name}: {wanted!r} not shown")
        print(f"  screen {path.name}", flush=True)
        return text


async def log_in(page: Page, url: str, report: Report) -> None:
    """The login page, as a user sees it."""
    await page.goto(url)
    await page.locator("#username").fill(USERNAME)
    await page.locator("#password").fill(PASSWORD)
    await report.screen(page, "login")
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(re.compile(r".*/(home|lovelace).*"), timeout=60_000)


def plain(text: str) -> str:
    """The longest stretch of a text that renders as written (no markdown or
    placeholders): what to look for on the screen."""
    return max(re.split(r"[`*\[\]{}()]", text), key=len).strip()


async def add_integration(page: Page, real: Running, report: Report) -> None:
    """Settings -> Add integration -> Deepgram: a bad URL, a wrong key, then right."""
    texts = strings()["config"]
    user = texts["step"]["user"]
    advanced = user["sections"]["advanced"]
    await page.goto(f"{real.hass.url}/config/integrations/dashboard")
    await page.get_by_role("button", name="Add integration").click()
    # Typing before the dialog's search field has focus would open Home
    # Assistant's quick bar (single-key shortcuts): fill the field itself.
    await page.get_by_text("Select brand").wait_for()
    await page.locator("input[placeholder*='Search']").last.fill("Deepgram")
    await page.get_by_text("Deepgram", exact=True).last.click()
    key = page.locator("input[name=api_key]")
    await key.wait_for()
    await report.screen(
        page, "user-form", user["title"], user["data"]["api_key"], advanced["name"]
    )
    await key.fill("not-the-key")
    await page.get_by_text(advanced["name"]).click()
    url = page.locator("input[name=url]")
    await url.fill("not a url")
    report.check(
        await page.locator('a[href^="http://192.168."]').count() == 0,
        "item 6: the example URL in the endpoint help is not a link",
    )
    await report.screen(page, "user-form-advanced", advanced["data"]["url"])
    submit = page.get_by_role("button", name="Submit")
    await submit.click()
    await page.get_by_text(plain(texts["error"]["invalid_url"])).first.wait_for()
    # Item 3: the section holding the wrong field stays open after the error.
    report.check(await url.is_visible(), "item 3: the endpoint stays in view")
    shown = await report.screen(
        page, "invalid-url", plain(texts["error"]["invalid_url"])
    )
    report.check("`" not in shown, "error texts show no raw markdown")
    await url.fill(real.server.base_url)
    await submit.click()
    await page.get_by_text(plain(texts["error"]["invalid_auth"])).first.wait_for()
    await report.screen(page, "wrong-key", plain(texts["error"]["invalid_auth"]))
    await key.fill(KEY)
    await submit.click()
    finish = page.get_by_role("button", name=re.compile("finish", re.IGNORECASE))
    await finish.wait_for()
    await report.screen(page, "created")
    await finish.click()


async def add_profile(page: Page, real: Running, report: Report) -> None:
    """'Add speech-to-text profile': nova-2, multilingual, the name left empty."""
    stt = strings()["config_subentries"]["stt"]
    await page.goto(f"{real.hass.url}/config/integrations/integration/deepgram")
    add = page.locator("ha-button").filter(has_text=stt["initiate_flow"]["user"])
    await add.click()
    submit = page.get_by_role("button", name="Submit")
    await submit.wait_for()
    titles = [step.get("title", "") for step in stt["step"].values()]
    text = await report.screen(page, "profile-form")
    report.check(any(t and t in text for t in titles), f"profile form title {titles}")
    await page.get_by_text("nova-3", exact=True).first.click()
    await page.wait_for_timeout(800)  # the list opens
    await page.get_by_text("nova-2", exact=True).last.click()
    await page.wait_for_timeout(500)  # and closes
    await page.get_by_role("checkbox", name="Multilingual").click(force=True)
    await page.wait_for_timeout(300)
    await report.screen(page, "profile-form-filled")
    await submit.click()
    finish = page.get_by_role("button", name=re.compile("finish", re.IGNORECASE))
    await finish.wait_for()
    # Item 1: named after its model and options.
    await report.screen(page, "profile-created", PROFILE_NAME)
    await finish.click()


async def reconfigure_profile(page: Page, real: Running, report: Report) -> None:
    """The profile's reconfigure button: a new name, endpointing 500 ms."""
    stt = strings()["config_subentries"]["stt"]
    await page.goto(f"{real.hass.url}/config/integrations/integration/deepgram")
    row = page.locator("ha-config-sub-entry-row").filter(has_text=PROFILE_NAME)
    await row.locator("ha-icon-button[slot=end]").first.click()
    submit = page.get_by_role("button", name="Submit")
    await submit.wait_for()
    await report.screen(page, "reconfigure-form")
    name = page.locator("input[name=name]")
    report.check(await name.count() == 1, "item 1: reconfigure can rename")
    await name.fill(RENAMED)
    await page.locator("input[type=number]").first.fill("500")
    await submit.click()
    close = page.locator("ha-dialog-footer").get_by_role("button", name="Close")
    await close.wait_for()
    # Item 2: the integration's own text, not Home Assistant's generic one.
    await report.screen(page, "reconfigured", stt["abort"]["reconfigure_successful"])
    await close.click()


async def choose_for_pipeline(
    page: Page, real: Running, report: Report, title: str
) -> None:
    """Settings -> Voice assistants -> the assistant -> Speech-to-text."""
    await page.goto(f"{real.hass.url}/config/voice-assistants/assistants")
    await page.get_by_text("English").first.click()
    picker = page.locator("assist-pipeline-detail-stt ha-select").first
    await picker.click()
    await report.screen(page, "pipeline-stt-choices", title)
    await page.get_by_text(title, exact=True).last.click()
    await report.screen(page, "pipeline-stt-chosen")
    await page.get_by_role("button", name="Update").click()
    await page.get_by_role("button", name="Update").wait_for(state="hidden")


async def browser_test(version: str, *, headed: bool = False) -> Report:
    """Run the whole scenario; the report."""
    async with running(version, "browser") as real:
        shots = real.work / "screenshots"
        shots.mkdir(parents=True)
        report = Report(shots)
        chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
        if chromium is None:
            raise SystemExit(
                "chromium not found: apt-get install chromium, or set $CHROMIUM"
            )
        async with HassClient.connect(real.hass.url, real.owner.token) as client:
            await client.wait_running()
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=chromium, headless=not headed, args=["--no-sandbox"]
                )
                page = await browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(30_000)
                try:
                    await log_in(page, real.hass.url, report)
                    await add_integration(page, real, report)
                    (entry,) = await client.entries("deepgram")
                    report.check(entry["state"] == "loaded", f"entry {entry}")
                    await add_profile(page, real, report)
                    subentries = await client.call(
                        "config_entries/subentries/list", entry_id=entry["entry_id"]
                    )
                    # A new entry comes with a voice in Home Assistant's
                    # language (English here) beside its listening profiles.
                    voices = [s for s in subentries if s["subentry_type"] == "tts"]
                    report.check(
                        [v["title"] for v in voices] == ["Deepgram Thalia"],
                        f"the first voice: {subentries}",
                    )
                    subentries = [s for s in subentries if s["subentry_type"] != "tts"]
                    report.check(len(subentries) == 2, f"two profiles: {subentries}")
                    title = str(subentries[-1]["title"])
                    report.check(title == PROFILE_NAME, f"profile title {title!r}")
                    await reconfigure_profile(page, real, report)
                    subentries = await client.call(
                        "config_entries/subentries/list", entry_id=entry["entry_id"]
                    )
                    subentries = [s for s in subentries if s["subentry_type"] != "tts"]
                    title = str(subentries[-1]["title"])
                    report.check(title == RENAMED, f"renamed profile {title!r}")
                    await choose_for_pipeline(page, real, report, title)
                finally:
                    await page.screenshot(path=str(shots / "last.png"))
                    await browser.close()
            entities = await client.stt_entities(entry["entry_id"])
            listing = await client.call("assist_pipeline/pipeline/list")
            (pipeline,) = listing["pipelines"]
            report.check(
                pipeline["stt_engine"] == entities[-1],
                f"pipeline uses {pipeline['stt_engine']}, not {entities[-1]}",
            )
            run = await run_voice_command(client, echo=False)
            report.check(
                run.text == "Turn on the kitchen light.", f"voice: {run.events}"
            )
        session = real.server.sessions[-1]
        report.check(session.query.get("language") == "multi", f"query {session.query}")
        report.check(session.query.get("model") == "nova-2", f"query {session.query}")
        report.check(
            session.query.get("endpointing") == "500", f"query {session.query}"
        )
        found = problems(real.hass.config / "home-assistant.log")
        report.check(not found, "warnings about the integration: " + "\n".join(found))
    return report


def main() -> None:
    """Parse the arguments, run, print the report."""
    from importlib import metadata

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=metadata.version("homeassistant"))
    parser.add_argument("--headed", action="store_true")
    args = parser.parse_args()
    started = time.monotonic()
    report = asyncio.run(browser_test(args.version, headed=args.headed))
    print(
        f"browser test: {report.count} checks, {len(report.failures)} failed, "
        f"{time.monotonic() - started:.0f} s; screenshots in {report.shots}"
    )
    sys.exit(1 if report.failures else 0)


if __name__ == "__main__":
    main()
