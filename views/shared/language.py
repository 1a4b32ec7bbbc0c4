"""Which language a page speaks, and the link that changes it.

The reader's own choice comes first (a link on every page, ``?lang=en`` or
``?lang=fr``, kept for the session and, once signed in, for the account),
then the account's language, then the browser's ``Accept-Language``; French
when none of them says. E-mails speak the account's language.

The catalogues are written as ``.po`` files; each is compiled to the ``.mo``
that gettext reads when the service starts, if the ``.po`` is newer.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel

from models.citizen.auth import set_account_language
from models.shared.i18n import DEFAULT, LANGUAGES, NAMES, install_in_templates, language

from .render import page_address

PARAMETER = "lang"
SESSION_KEY = "language"
# The agents' console: its users are the administration's staff, who work in French.
FRENCH_ONLY = {"console"}
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def select_language() -> str:
    if not has_request_context() or request.blueprint in FRENCH_ONLY:
        return DEFAULT
    chosen = session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return chosen
    account = g.get("account")
    if account is not None and account.language in LANGUAGES:
        return account.language
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT


def settle_account_language(account) -> None:
    """On signing in: the account keeps the language its holder reads, for the
    e-mails sent to it. A choice made in this session wins; else the account's own;
    else what the browser asks for."""
    chosen = session.get(SESSION_KEY)
    if chosen not in LANGUAGES:
        if account.language in LANGUAGES:
            return
        chosen = request.accept_languages.best_match(LANGUAGES) or DEFAULT
    if account.language != chosen:
        set_account_language(account, chosen)


def language_switch() -> dict | None:
    """The link to this page in the other language, labelled in that language (none
    on the agents' console, which is French only)."""
    if request.blueprint in FRENCH_ONLY:
        return None
    other = next(code for code in LANGUAGES if code != language())
    # The page the browser shows (after an htmx sign-in, not « /connexion »).
    address = urlsplit(page_address())
    args = [(k, v) for k, v in parse_qsl(address.query, keep_blank_values=True) if k != PARAMETER]
    args.append((PARAMETER, other))
    url = address.path + "?" + urlencode(args)
    return {"code": other, "name": NAMES[other], "url": url}


def compile_catalogues(folder: Path = TRANSLATIONS) -> None:
    """Each ``.po`` compiled to its ``.mo`` when the ``.po`` is newer (atomically:
    several workers may start at once)."""
    for po in folder.glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalogue = read_po(source)
        handle, temporary = tempfile.mkstemp(dir=po.parent, suffix=".mo.tmp")
        with os.fdopen(handle, "wb") as target:
            write_mo(target, catalogue, use_fuzzy=False)
        os.replace(temporary, mo)


def init_language(app: Flask) -> None:
    """After ``init_web``: the account is known when the language is chosen."""
    compile_catalogues()
    Babel(
        app,
        default_locale=DEFAULT,
        default_translation_directories=str(TRANSLATIONS),
        locale_selector=select_language,
    )
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    install_in_templates(app.jinja_env)

    @app.before_request
    def remember_the_choice() -> None:
        choice = request.args.get(PARAMETER)
        if request.method != "GET" or choice not in LANGUAGES:
            return
        session[SESSION_KEY] = choice
        account = g.get("account")
        if account is not None and account.language != choice:
            set_account_language(account, choice)

    app.jinja_env.globals.update(language=language, language_switch=language_switch)
