"""The accessibility check itself: it finds what it should, with no network."""

import pytest

from realtime.testing.accessibility import assert_accessible

pytestmark = pytest.mark.e2e


def test_a_serious_violation_fails_with_its_name_and_place(page):
    page.route("**/*", lambda route: route.abort())  # axe-core must come from the package
    page.set_content('<html lang="en"><title>t</title><main><button class="x"></button></main>')
    with pytest.raises(AssertionError, match=r"critical: button-name .* at button"):
        assert_accessible(page)


def test_a_clean_page_passes(page):
    page.set_content(
        '<html lang="en"><title>t</title><main><h1>Hi</h1><button>Go</button></main></html>'
    )
    assert_accessible(page)


def test_text_fading_in_is_checked_once_it_has_faded_in(page):
    """A toast's fade-in is not a contrast failure; its colours once shown are what count."""
    page.set_content(
        '<html lang="en"><title>t</title><style>@keyframes in { from { opacity: 0.2; } }'
        "p { animation: in 1s; }</style><main><p>Fading in</p></main></html>"
    )
    assert_accessible(page)
