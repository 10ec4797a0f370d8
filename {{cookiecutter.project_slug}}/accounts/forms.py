from confusable_homoglyphs import confusables
from django import forms
from django.contrib.auth.forms import UserCreationForm

from .guests import GUEST_PREFIX

# Names that would pass for the server or the staff in a chat or a notification.
# Compared case-insensitively; the guest- prefix belongs to guest accounts.
RESERVED_USERNAMES = frozenset(
    {
        "system",
        "server",
        "admin",
        "administrator",
        "root",
        "staff",
        "support",
        "moderator",
        "guest",
        "anonymous",
    }
)


def is_reserved_username(username: str) -> bool:
    folded = username.casefold()
    return folded in RESERVED_USERNAMES or folded.startswith(GUEST_PREFIX)


class SignupForm(UserCreationForm):
    def clean_username(self):
        username = super().clean_username()
        if username and is_reserved_username(username):
            raise forms.ValidationError("This name is reserved. Please choose another.")
        # Letters of another alphabet that look like Latin ones (a Cyrillic U+0430
        # for the "a" of "alice") would let someone pass for another user in a chat.
        if username and confusables.is_dangerous(username):
            raise forms.ValidationError(
                "This name mixes look-alike letters from different alphabets. "
                "Please choose another."
            )
        return username


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What will use it, e.g. “chat bot on my laptop”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
