"""The service's two languages: French (the source of every text) and English.

Every text is written in French in the code and the templates, marked with
``_()`` (or ``lazy_gettext`` where a module-level constant holds it), and
translated in ``views/translations/en/LC_MESSAGES/messages.po``. The language
of the request (or of an e-mail: see ``force_locale``) picks the words;
outside any request, French.

Dates and amounts are written the way each language writes them:
« 9,02 € », « 1er décembre 2026 » and « 06/12/2026 »; « €9.02 »,
« 1 December 2026 » and « 6 Dec 2026 ».
"""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_datetime
from flask.globals import _cv_app
from flask_babel import (
    force_locale,
    get_locale,
    get_translations,
)
from flask_babel.speaklater import LazyString
from jinja2 import pass_eval_context
from markupsafe import Markup

FRENCH = "fr"
ENGLISH = "en"
LANGUAGES = (FRENCH, ENGLISH)
DEFAULT = FRENCH
# Each language's name, written in that language (the switch is labelled this way).
NAMES = {FRENCH: "Français", ENGLISH: "English"}
# The region whose conventions format dates and numbers.
_FORMAT_LOCALES = {FRENCH: "fr_FR", ENGLISH: "en_GB"}


# Each language's catalogue, read from its file once per process: Flask-Babel reads
# and parses it again at every request (0.1 ms of a page).
_READ: dict[str, object] = {}


def catalogue():
    """The translations of the language being spoken, looked up once per request.

    Flask-Babel finds them again for every text, through several context
    locals: about a fifth of a page's rendering time. Its own lookup still
    chooses the language; the answer is kept beside the language it was for,
    so ``force_locale`` (an e-mail in the account's language) gets its own.
    """
    # The application context itself, not through the ``g`` proxy: a page asks for
    # some sixty texts, and each pass through the proxy costs as much as the lookup.
    context = _cv_app.get(None)
    state = context.g.__dict__.get("_flask_babel") if context is not None else None
    locale = getattr(state, "babel_locale", None)
    if locale is None:
        return get_translations()
    kept = getattr(state, "catalogue", None)
    if kept is None or kept[0] is not locale:
        read = _READ.get(str(locale))
        if read is None:
            read = _READ.setdefault(str(locale), get_translations())
        kept = state.catalogue = (locale, read)
    return kept[1]


def gettext(string: str, **variables) -> str:
    text = catalogue().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return catalogue().ungettext(singular, plural, num) % variables


def pgettext(context: str, string: str, **variables) -> str:
    text = catalogue().upgettext(context, string)
    return text % variables if variables else text


def npgettext(context: str, singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return catalogue().unpgettext(context, singular, plural, num) % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    return LazyString(gettext, string, **variables)


def lazy_pgettext(context: str, string: str, **variables) -> LazyString:
    return LazyString(pgettext, context, string, **variables)


# The templates' texts, as Jinja's i18n extension « newstyle » has them: the
# translation is escaped like the template (Markup where it autoescapes), and is
# always a format string (« %% » for a percent sign), variables or not. Written
# here rather than installed through the extension, which wraps each function in
# a second context call: a page says some fifty texts, and that wrapping was a
# tenth of its rendering.


@pass_eval_context
def _template_gettext(eval_context, string: str, /, **variables) -> str:
    text = catalogue().ugettext(string)
    if eval_context.autoescape:
        text = Markup(text)  # noqa: S704 (our own catalogue, trusted as the template)
    # Formatting a text without « % » changes nothing (most of a page's texts).
    return text % variables if variables or "%" in text else text


@pass_eval_context
def _template_ngettext(eval_context, singular: str, plural: str, num: int, /, **variables) -> str:
    variables.setdefault("num", num)
    text = catalogue().ungettext(singular, plural, num)
    return (Markup(text) if eval_context.autoescape else text) % variables  # noqa: S704


@pass_eval_context
def _template_pgettext(eval_context, context: str, string: str, /, **variables) -> str:
    variables.setdefault("context", context)
    text = catalogue().upgettext(context, string)
    return (Markup(text) if eval_context.autoescape else text) % variables  # noqa: S704


@pass_eval_context
def _template_npgettext(
    eval_context, context: str, singular: str, plural: str, num: int, /, **variables
) -> str:
    variables.setdefault("context", context)
    variables.setdefault("num", num)
    text = catalogue().unpgettext(context, singular, plural, num)
    return (Markup(text) if eval_context.autoescape else text) % variables  # noqa: S704


def install_in_templates(environment) -> None:
    """The templates' ``_()``, ``ngettext()`` and ``pgettext()`` (and ``{% trans %}``)
    through ``catalogue()``."""
    environment.newstyle_gettext = True  # how ``{% trans %}`` blocks are compiled
    environment.globals.update(
        gettext=_template_gettext,
        # ``_()`` straight to it: Jinja's own ``_`` looks ``gettext`` up again in the
        # template's context at every call.
        _=_template_gettext,
        ngettext=_template_ngettext,
        pgettext=_template_pgettext,
        npgettext=_template_npgettext,
    )


_ = gettext

__all__ = [
    "DEFAULT",
    "ENGLISH",
    "FRENCH",
    "LANGUAGES",
    "NAMES",
    "_",
    "force_locale",
    "gettext",
    "language",
    "lazy_gettext",
    "lazy_pgettext",
    "long_date",
    "money",
    "ngettext",
    "of",
    "pgettext",
    "short_date",
    "short_datetime",
]


def language() -> str:
    """« fr » or « en »: the language this request (or forced block) speaks; French
    outside any application context."""
    found = get_locale()
    return found.language if found is not None and found.language in LANGUAGES else DEFAULT


def money(cents: int) -> str:
    """« 9,02 € » in French, « €9.02 » in English (whole cents, never a float)."""
    whole, rest = divmod(cents, 100)
    if language() == ENGLISH:
        return f"€{whole}.{rest:02d}"
    return f"{whole},{rest:02d}\u00a0€"


def long_date(day: date) -> str:
    """« 1er décembre 2026 », « 1 December 2026 »."""
    if language() == FRENCH:
        text = format_date(day, "d MMMM y", locale="fr_FR")
        return "1er" + text[1:] if day.day == 1 else text
    return format_date(day, "d MMMM y", locale=_FORMAT_LOCALES[ENGLISH])


def short_date(day: date) -> str:
    """« 06/12/2026 » in French; « 6 Dec 2026 » in English, which a reader used to
    month-first dates cannot misread."""
    if language() == FRENCH:
        return day.strftime("%d/%m/%Y")
    return format_date(day, "d MMM y", locale=_FORMAT_LOCALES[ENGLISH])


def short_datetime(moment: datetime) -> str:
    """« 06/12/2026 à 14:05 », « 6 Dec 2026 at 14:05 » (the time as given: Paris time)."""
    if language() == FRENCH:
        return moment.strftime("%d/%m/%Y à %H:%M")
    return format_datetime(moment, "d MMM y 'at' HH:mm", locale=_FORMAT_LOCALES[ENGLISH])


VOWELS = set("AEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜaeiouyàâäéèêëîïôöùûü")


def of(name: str) -> str:
    """« de Léo MARTIN », « d'Inès MARTIN » (French elides « de » before a vowel);
    « of Léo MARTIN » in English."""
    if language() == ENGLISH:
        return f"of {name}"
    return f"d'{name}" if name[:1] in VOWELS else f"de {name}"
