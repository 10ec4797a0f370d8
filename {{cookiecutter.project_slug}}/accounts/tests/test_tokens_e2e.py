"""The access tokens page in a real browser: create (shown once), list, revoke."""

import re

import pytest
from playwright.sync_api import Page, expect

from realtime.testing.accessibility import assert_accessible
from realtime.testing.pages import VIEWPORTS, create_access_token, page_width_overflow

pytestmark = pytest.mark.e2e


def token_rows(page: Page):
    return page.get_by_role("table", name="Your tokens").get_by_role("row")


@pytest.mark.parametrize("size", VIEWPORTS)
def test_create_a_token_see_it_once_and_revoke_it(daphne_server, guest_page, size):
    page, _name = guest_page(daphne_server.url, **VIEWPORTS[size])

    token = create_access_token(page, daphne_server.url, "laptop bot")

    assert re.fullmatch(r"rt_[\w-]{43}", token)
    expect(page.get_by_role("heading", name="Token “laptop bot” created")).to_be_visible()
    row = token_rows(page).filter(has=page.get_by_role("rowheader", name="laptop bot"))
    expect(row).to_contain_text("Never")  # not used yet
    assert_accessible(page)
    assert page_width_overflow(page) <= 0

    # A long name without spaces wraps in its cell; the button keeps its word whole.
    create_access_token(page, daphne_server.url, "x" * 100)
    assert page_width_overflow(page) <= 0
    revoke, create = (
        page.get_by_role("button", name=n) for n in ("Revoke laptop bot", "Create token")
    )
    assert (
        revoke.bounding_box()["height"] <= create.bounding_box()["height"]
    )  # one line, not "Rev/oke"
    page.get_by_role("button", name=f"Revoke {'x' * 100}").click()

    page.goto(page.url)  # the same page again, with a GET: the token is not shown
    expect(page.get_by_role("heading", name="Access tokens", level=1)).to_be_visible()
    expect(page.get_by_label("Your new token")).to_have_count(0)
    expect(page.get_by_text(token)).to_have_count(0)

    page.get_by_role("button", name="Revoke laptop bot").click()
    expect(page.get_by_role("list", name="Notices")).to_contain_text("“laptop bot” revoked")
    expect(page.get_by_role("rowheader", name="laptop bot")).to_have_count(0)
    expect(page.get_by_text("No tokens yet.")).to_be_visible()
