"""Accessibility checks for the browser tests: axe-core, run in the page under test.

axe-playwright-python ships axe-core's JavaScript inside the package, so the
check runs offline. A test calls assert_accessible(page) once the page shows
what it is about (the connection live, the list filled in).
"""

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

FAILING_IMPACTS = {"serious", "critical"}  # "minor" and "moderate" ones are reported, not failed

_axe = Axe()
# Waits for the page's finite animations: text fading in (a toast) is pale for a
# moment, and axe would measure its contrast halfway.
FINISH_ANIMATIONS = """() => Promise.all(document.getAnimations()
  .filter((animation) => animation.effect?.getComputedTiming().iterations !== Infinity)
  .map((animation) => animation.finished.catch(() => null)))"""


def violations(page: Page) -> list[dict]:
    """axe-core's violations on the page once its animations have ended, worst first."""
    page.evaluate(FINISH_ANIMATIONS)
    found = _axe.run(page).response["violations"]
    order = ["critical", "serious", "moderate", "minor"]
    return sorted(found, key=lambda violation: order.index(violation["impact"]))


def assert_accessible(page: Page) -> None:
    """Fail with a readable list if axe-core finds a serious or critical violation."""
    failing = [v for v in violations(page) if v["impact"] in FAILING_IMPACTS]
    lines = [
        f"{v['impact']}: {v['id']} ({v['help']}) at {', '.join(map(str, node['target']))}"
        for v in failing
        for node in v["nodes"][:5]
    ]
    if failing:
        raise AssertionError(f"{page.url} has accessibility violations:\n" + "\n".join(lines))
