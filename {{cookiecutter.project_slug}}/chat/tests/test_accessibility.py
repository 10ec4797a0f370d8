"""The chat pages, as people see them on a desktop and on a phone: accessible, and they fit."""

import uuid

import pytest
from playwright.sync_api import expect

from realtime.testing.accessibility import assert_accessible
from realtime.testing.pages import VIEWPORTS, connection_status, page_width_overflow

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("size", VIEWPORTS)
def test_room_list_and_a_room(daphne_server, guest_page, size):
    page, name = guest_page(daphne_server.url, **VIEWPORTS[size])
    slug = f"room-{uuid.uuid4().hex[:8]}"
    page.goto(f"{daphne_server.url}/chat/{slug}/")  # no such room yet: the page offers it
    assert_accessible(page)
    page.get_by_role("button", name=f"Create #{slug}").click()
    expect(connection_status(page)).to_have_text("Live")
    page.get_by_role("textbox", name="Message").fill("Hello from a " + size)
    page.get_by_role("button", name="Send").click()
    messages = page.get_by_role("log", name="Messages").get_by_role("listitem")
    expect(messages.filter(has_text="Hello from a " + size)).to_contain_text(name)
    expect(page.get_by_role("button", name="Send")).to_be_in_viewport()
    assert_accessible(page)
    assert page_width_overflow(page) <= 0

    page.goto(f"{daphne_server.url}/chat/")
    expect(connection_status(page)).to_have_text("Live")
    assert_accessible(page)
    assert page_width_overflow(page) <= 0
