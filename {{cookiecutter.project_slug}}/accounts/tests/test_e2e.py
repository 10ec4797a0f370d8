"""The pages every project has (home, log in, sign up) and the header, in real browsers."""

import urllib.request

import pytest
from playwright.sync_api import Page, expect

from accounts.guests import ADJECTIVES, ANIMALS, GUEST_PREFIX, NUMBERS
from realtime.testing.accessibility import assert_accessible
from realtime.testing.pages import (
    PHONE,
    SIGNED_IN,
    VIEWPORTS,
    header_items,
    header_rows,
    page_width_overflow,
)
from realtime.testing.servers import manage

pytestmark = pytest.mark.e2e


def check_page(page: Page, heading: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert_accessible(page)
    assert page_width_overflow(page) <= 0, f"{page.url} is wider than the screen"
    assert header_rows(page) <= 2


@pytest.mark.parametrize("size", VIEWPORTS)
def test_home_log_in_and_sign_up_pages(daphne_server, browser, guest_page, size):
    visitor = browser.new_context(**VIEWPORTS[size]).new_page()
    visitor.goto(f"{daphne_server.url}/accounts/login/")
    check_page(visitor, "Try it in one click")
    visitor.goto(f"{daphne_server.url}/accounts/signup/")
    check_page(visitor, "Create an account")
    visitor.get_by_label("Username").fill("someone")
    visitor.get_by_label("Password", exact=True).fill("one password")
    visitor.get_by_label("Password confirmation").fill("another")
    visitor.get_by_role("button", name="Sign up").click()  # with its errors showing
    expect(visitor.get_by_role("alert").first).to_be_visible()
    assert_accessible(visitor)
    visitor.context.close()

    member, _ = guest_page(daphne_server.url, **VIEWPORTS[size])
    member.goto(f"{daphne_server.url}/")
    check_page(member, member.title())


def test_the_header_fits_a_phone_in_two_rows(daphne_server, server_env, guest_page):
    page, username = guest_page(daphne_server.url, **PHONE)
    # The widest name a guest can be given (m and w are the widest letters).
    assert "mellow" in ADJECTIVES and "wombat" in ANIMALS
    widest = f"{GUEST_PREFIX}mellow-wombat-{NUMBERS - 1}"
    rename = (
        "from django.contrib.auth import get_user_model\n"
        f"get_user_model().objects.filter(username={username!r}).update(username={widest!r})"
    )
    manage(server_env, "shell", "-c", rename)
    page.goto(f"{daphne_server.url}/")
    assert header_rows(page) <= 2
    for item in header_items(page):  # all of it on screen, none of it under another item
        expect(item).to_be_in_viewport(ratio=1)
    name = page.get_by_role("banner").get_by_text(SIGNED_IN)
    expect(name).to_contain_text(widest)
    assert name.evaluate("element => element.scrollWidth <= element.clientWidth"), "name cut off"
    nav = page.get_by_role("navigation", name="Main").get_by_role("link")
    for link in nav.all():
        link.click(trial=True)  # visible, and nothing lies over it
    page.get_by_role("button", name="Log out").click(trial=True)


def test_the_site_has_an_icon(daphne_server, page):
    with urllib.request.urlopen(f"{daphne_server.url}/favicon.ico") as response:
        assert response.status == 200
        assert response.read(4) == b"\x00\x00\x01\x00"  # an ICO file
    page.goto(f"{daphne_server.url}/accounts/login/")
    for icon in page.locator("link[rel=icon]").all():
        with urllib.request.urlopen(daphne_server.url + icon.get_attribute("href")) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("image/")
