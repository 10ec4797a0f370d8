"""The Content-Security-Policy header, and the browser-test guard that enforces it."""

import pytest
from django.urls import reverse

from realtime.testing.csp import MARKER


@pytest.mark.django_db
def test_pages_send_a_strict_content_security_policy(client):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no nonce needed
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"  # the same origin's ws:// and wss:// too
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


@pytest.mark.e2e
def test_an_injected_inline_script_is_blocked_and_reported(
    daphne_server, guest_page, csp_violations
):
    page, _ = guest_page(daphne_server.url)
    assert csp_violations == []  # the real pages raise none
    with page.expect_console_message(lambda message: MARKER in message.text):
        page.evaluate(
            """() => {
              const script = document.createElement("script");
              script.textContent = "window.injected = true";
              document.body.append(script);
            }"""
        )
    assert page.evaluate("window.injected") is None  # it never ran
    page.context.close()  # deliver every pending event
    assert any("script-src" in violation for violation in csp_violations), csp_violations
    csp_violations.clear()  # provoked on purpose: otherwise the guard fails this test
