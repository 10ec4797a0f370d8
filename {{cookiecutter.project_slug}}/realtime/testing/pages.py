"""Playwright helpers shared by every app's end-to-end tests (roles and labels only)."""

import re

from playwright.sync_api import Page, expect

# A phone-sized browser context: guest_page(url, **PHONE) or browser.new_context(**PHONE).
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}  # for @pytest.mark.parametrize("size", VIEWPORTS)
SIGNED_IN = re.compile(r"^Signed in as \S")  # the header's whole "Signed in as <name>"


def sign_in_as_guest(page: Page, base_url: str) -> str:
    """Log in with the one-click guest button; return the guest's username."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_role("button", name="Continue as guest").click()
    signed_in = page.get_by_role("banner").get_by_text(SIGNED_IN)
    expect(signed_in).to_be_visible()
    return signed_in.inner_text().removeprefix("Signed in as").strip()


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Log in with the form, as a person would."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("banner").get_by_text(f"Signed in as {username}")).to_be_visible()


def connection_status(page: Page):
    """The header's live connection indicator ("Live", "Offline, reconnecting…", ...)."""
    # Every label of realtime/static/realtime/client.js.
    states = re.compile("Live|Connecting|Offline|Removed|Signed in as someone else")
    return page.get_by_role("status").filter(has_text=states)


def page_width_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport (0: it fits, no sideways scroll)."""
    return page.evaluate("document.documentElement.scrollWidth") - page.viewport_size["width"]


def header_items(page: Page) -> list:
    """What the header shows: the brand, the links, the buttons, the status and the account."""
    banner = page.get_by_role("banner")
    items = [*banner.get_by_role("link").all(), *banner.get_by_role("button").all()]
    items += [item for item in banner.get_by_role("status").all() if item.is_visible()]
    return items + banner.get_by_text(SIGNED_IN).all()


def header_rows(page: Page) -> int:
    """How many rows the header's items sit on (items whose heights overlap share a row)."""
    rows: list[list[float]] = []
    boxes = [item.bounding_box() for item in header_items(page)]
    for box in sorted(boxes, key=lambda box: box["y"]):
        if rows and box["y"] < rows[-1][1]:
            rows[-1][1] = max(rows[-1][1], box["y"] + box["height"])
        else:
            rows.append([box["y"], box["y"] + box["height"]])
    return len(rows)


def create_access_token(page: Page, base_url: str, name: str) -> str:
    """Create a personal access token on its page, as a person would; return it as shown."""
    page.goto(base_url)
    page.get_by_role("link", name="Access tokens").click()
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create token").click()
    shown = page.get_by_label("Your new token")
    expect(shown).to_be_visible()
    return shown.input_value()
