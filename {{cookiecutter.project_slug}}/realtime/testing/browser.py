"""Which Chromium the Playwright tests drive.

Playwright's own build (`playwright install chromium`) when it is installed,
otherwise a system Chromium (Debian: `apt-get install chromium`). Run as
`python -m realtime.testing.browser` to see which one is used; it exits 1 if none.
"""

import shutil
import sys
from pathlib import Path

SYSTEM_CHROMIUM_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
# Headless flags for a system Chromium in a container or CI machine: no sandbox
# (often unavailable there) and none of the background network calls home.
SYSTEM_CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSING = (
    "No Chromium for the browser tests. Install Playwright's "
    "(`.venv/bin/playwright install chromium`) or your system's (`apt-get install chromium`)."
)


def playwright_chromium() -> Path | None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        path = Path(playwright.chromium.executable_path)
    return path if path.exists() else None


def system_chromium() -> Path | None:
    for name in SYSTEM_CHROMIUM_NAMES:
        if found := shutil.which(name):
            return Path(found)
    return None


def launch_options(playwright_executable: str) -> dict:
    """Extra `browser_type.launch()` options, or RuntimeError(MISSING)."""
    if Path(playwright_executable).exists():
        return {}
    if system := system_chromium():
        return {"executable_path": str(system), "args": SYSTEM_CHROMIUM_ARGS}
    raise RuntimeError(MISSING)


if __name__ == "__main__":
    found = playwright_chromium() or system_chromium()
    print(f"Chromium for the browser tests: {found}" if found else MISSING)
    sys.exit(0 if found else 1)
