"""Fail a browser test on any Content-Security-Policy violation.

The shared fixtures hand every browser context the tests open to GUARD.watch():
a listener for the page's `securitypolicyviolation` events (an init script, so
it runs before the page's own scripts) and for Chromium's "Refused to ..."
console errors. The autouse `csp_violations` fixture fails the test at teardown
if any was seen; a test that provokes one on purpose inspects and clears it.
"""

from playwright.sync_api import BrowserContext, ConsoleMessage

MARKER = "Content Security Policy"

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(
    `MARKER violation (event): ${event.effectiveDirective} blocked ` +
      `${event.blockedURI || "inline code"} in ${event.sourceFile}:${event.lineNumber}`,
  );
});
""".replace("MARKER", MARKER)


class CSPGuard:
    def __init__(self) -> None:
        self.violations: list[str] = []

    def watch(self, context: BrowserContext) -> None:
        context.add_init_script(REPORT_VIOLATIONS)
        context.on("console", self._on_console)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and MARKER in message.text:
            where = message.page.url if message.page else message.location.get("url")
            self.violations.append(f"{where}: {message.text}")


GUARD = CSPGuard()
