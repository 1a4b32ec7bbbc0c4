"""The base of every form: text answers from the request's form fields, and nothing else.

A browser sends a form's text fields as text. Anything else standing in for
them (a file part named like a field, a JSON body, control characters such as
NUL pasted into a field) is not an answer: the field says so, next to it,
instead of reaching the database or the code that expects text.
"""

from __future__ import annotations

import re

from babel import support
from flask import request
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.i18n import messages_path
from wtforms.validators import Email, InputRequired, Length, StopValidation

from models.shared.i18n import _, lazy_gettext

SUBMIT_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# C0 and C1 control characters, NUL included; tab and line breaks are white space.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_FROM_REQUEST = object()


def refused_characters(label: str) -> str:
    return _(
        "« %(label)s » contient un caractère non autorisé : retapez-le sans le copier-coller",
        label=label,
    )


# WTForms' own messages in each language, read once per process (Flask-WTF reads the
# file again for every request that builds a form).
_WTFORMS_MESSAGES: dict[str, support.Translations] = {}


class Form(FlaskForm):
    """A form filled from ``request.form`` only (never files, never JSON)."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            locale = str(get_locale())
            found = _WTFORMS_MESSAGES.get(locale)
            if found is None:
                found = _WTFORMS_MESSAGES.setdefault(
                    locale, support.Translations.load(messages_path(), [locale], domain="wtforms")
                )
            return found

    def __init__(self, formdata=_FROM_REQUEST, **kwargs):
        if formdata is _FROM_REQUEST:
            formdata = request.form if request.method in SUBMIT_METHODS else None
        super().__init__(formdata=formdata, **kwargs)


class TextField(StringField):
    """One line of text typed by the user."""

    def pre_validate(self, form) -> None:
        if self.data and CONTROL_CHARACTERS.search(self.data):
            raise StopValidation(refused_characters(self.label.text))


class HiddenTextField(HiddenField):
    """A value the page itself sends back (not typed: checked all the same)."""

    def pre_validate(self, form) -> None:
        if self.data and CONTROL_CHARACTERS.search(self.data):
            raise StopValidation(refused_characters(self.label.text or self.name))


# Nobody's address is longer (RFC 5321): a longer one is a mistake, or a probe.
EMAIL_MAX = 254


def email_validators(required: str) -> list:
    """An e-mail address field's checks, with the same messages on every form (lazy:
    forms are classes, their messages written when shown; Length fills in ``max``)."""
    return [
        InputRequired(required),
        Length(
            max=EMAIL_MAX,
            message=lazy_gettext("L'adresse électronique comporte au plus %(max)d caractères"),
        ),
        Email(
            lazy_gettext("Saisissez une adresse électronique valide, par exemple nom@exemple.fr"),
            check_deliverability=False,
        ),
    ]


def trimmed(value):
    """What was typed, without the spaces and tabs around it (a pasted address often
    brings some): they are never part of an e-mail address."""
    return value.strip() if isinstance(value, str) else value


class EmailAddressField(TextField):
    """An e-mail address: the same checks and messages on every form, checked (and
    kept) without the spaces around it."""

    def __init__(self, label, required: str, **kwargs) -> None:
        super().__init__(label, validators=email_validators(required), filters=[trimmed], **kwargs)
