"""Layout, « Mes données », headers, compression, static files, error pages."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from pathlib import Path

import brotli
import pytest

from views.shared.web import DOCUMENT_ONLY

from .helpers import QueryLog, sign_in

ROOT = Path(__file__).resolve().parent.parent

PUBLIC_PAGES = [
    "/",
    "/connexion",
    "/identifiant-oublie",
    "/mot-de-passe-oublie",
    "/accessibilite",
    "/mentions-legales",
    "/contact",
]


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_every_page_has_the_accessible_layout(client, url):
    html = client.get(url).text
    assert '<html lang="fr">' in html
    assert html.index('class="skip-link" href="#main"') < html.index("<header")
    assert '<main id="main"' in html and "<footer" in html
    assert html.count("<h1") == 1
    assert "Accessibilité : non conforme" in html
    assert re.search(r"<title>[^<]+ - CMI</title>", html)


def test_page_titles_are_unique(client):
    titles = {
        re.search(r"<title>([^<]+)</title>", client.get(u).text).group(1) for u in PUBLIC_PAGES
    }
    assert len(titles) == len(PUBLIC_PAGES)


def test_security_headers_on_every_response(client):
    for url in ["/connexion", "/nope", PUBLIC_PAGES[0]]:
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        directives = dict(d.split(" ", 1) for d in csp.split("; "))
        # Scripts and htmx's requests: this site only, by the default; styles: named.
        assert directives["default-src"] == "'self'"
        assert not {"script-src", "connect-src"} & set(directives)
        assert directives["style-src"].startswith("'self' 'sha256-")
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_pages_carry_no_inline_script_and_only_the_stylesheet_their_policy_names(app):
    client = app.test_client()
    sign_in(client, "camille.martin")
    for url in [*PUBLIC_PAGES, "/mes-donnees"]:
        client.delete_cookie("css")  # a browser that has not kept the stylesheet yet
        response = client.get(url, follow_redirects=True)
        html = response.text
        # The stylesheet is written in the page (first paint in one round trip); the
        # policy allows that exact text by its hash, and no other inline style.
        (style,) = re.findall(r"<style>(.*?)</style>", html, re.S)
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        policy = response.headers["Content-Security-Policy"]
        assert f"style-src 'self' 'sha256-{digest}';" in policy
        assert "unsafe-inline" not in policy
        assert " style=" not in html
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
        # htmx runs code from a page only for hx-on and « js: » values: there are
        # none, and the policy would refuse them anyway (no 'unsafe-eval').
        assert "hx-on" not in html and "js:" not in html
        assert "unsafe-eval" not in policy
        # Nor does htmx add a style sheet of its own for request indicators.
        assert '"includeIndicatorCSS":false' in html


def test_htmx_waits_for_a_slow_answer_and_reloads_history(client):
    html = client.get("/connexion").text
    (config,) = re.findall(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
    config = json.loads(config)
    # A 5 MB photo takes 105 s to send at 3G's 50 kB/s: htmx would give up on any
    # request after 60 s by default, and say nothing.
    assert config["defaultTimeout"] == 0
    # Back and forward load the page from the server, never a copy kept in the
    # browser's storage (personal data, a step that may have moved on).
    assert config["history"] == "reload"


def test_html_is_compressed_with_brotli_or_gzip(client):
    response = client.get("/connexion", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.headers["Content-Encoding"] == "br"
    assert "<h1" in brotli.decompress(response.data).decode()
    response = client.get("/connexion", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "<h1" in gzip.decompress(response.data).decode()
    assert "Accept-Encoding" in response.headers["Vary"]
    assert "HX-Request" in response.headers["Vary"]


def test_error_pages_are_compressed_too(client):
    response = client.get("/nope", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 404
    assert response.headers["Content-Encoding"] == "gzip"


def test_the_stylesheet_is_written_in_the_first_page_then_linked_once_kept(client):
    first = client.get("/connexion")
    assert "<style>" in first.text
    preload_link = r'<link rel="preload" href="(/static/css/[^"]+)" as="style">'
    (preload,) = re.findall(preload_link, first.text)
    cookie = first.headers["Set-Cookie"]
    assert cookie.startswith("css=") and "HttpOnly" in cookie and "Max-Age=31536000" in cookie
    assert "Cookie" in first.headers["Vary"]
    later = client.get("/accessibilite")
    assert "<style>" not in later.text and "Set-Cookie" not in later.headers
    assert f'<link rel="stylesheet" href="{preload}">' in later.text
    # A stylesheet changed since: its digest is not the cookie's, so it is written again.
    client.set_cookie("css", "000000000000")
    assert "<style>" in client.get("/connexion").text


def test_static_files_have_hashed_names_and_a_year_of_cache(client):
    html = client.get("/connexion").text
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert {u.rsplit(".", 1)[-1] for u in urls} >= {"css", "js", "svg"}
    for url in urls:
        assert re.search(r"\.[0-9a-f]{12}\.\w+$", url), url
        response = client.get(url, headers={"Accept-Encoding": "br, gzip"})
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["Content-Encoding"] == "br"
        assert "Accept-Encoding" in response.headers["Vary"]


def test_our_stylesheet_and_script_go_without_their_comments_and_spaces(client):
    html = client.get("/connexion").text
    urls = re.findall(r'(?:href|src)="/static/((?:css|js)/site)\.[0-9a-f]{12}(\.\w+)"', html)
    assert len(set(urls)) == 2
    for stem, suffix in set(urls):
        source = (ROOT / "static" / f"{stem}{suffix}").read_bytes()
        url = re.search(rf'"(/static/{stem}\.[0-9a-f]{{12}}\{suffix})"', html).group(1)
        sent = client.get(url, headers={"Accept-Encoding": "identity"}).data
        assert b"/*" not in sent and b"\n  " not in sent, url
        assert len(sent) < 0.8 * len(source), url
    # The page's own copy of the stylesheet is the file's, to the byte (its hash).
    css = re.search(r'href="(/static/css/site\.[^"]+)"', html).group(1)
    assert f"<style>{client.get(css).text}</style>" in html


def test_a_static_file_under_an_old_hash_is_not_found(client):
    assert client.get("/static/css/site.000000000000.css").status_code == 404


def test_personal_pages_are_never_stored_and_public_ones_answer_304_when_unchanged(app, client):
    client.get("/")  # the stylesheet kept: later pages link it, and stay the same
    for url in ["/", "/connexion", "/accessibilite", "/j-ai-perdu-ma-carte?carte=cmi"]:
        first = client.get(url)
        assert first.headers["Cache-Control"] == "no-cache", url  # kept, always asked again
        validator = first.headers["ETag"]
        again = client.get(url, headers={"If-None-Match": validator})
        assert again.status_code == 304 and again.data == b"", url
        # The form's token changed, yet the page is the same for this session.
        assert client.get(url).headers["ETag"] == validator, url
    client.get("/?lang=en")
    assert client.get("/", headers={"If-None-Match": validator}).status_code == 200
    # A browser may revalidate a page it kept for another session: its form token would
    # be refused, so the other session's page is another page.
    kept = client.get("/connexion").headers["ETag"]
    other = app.test_client()
    other.get("/connexion")
    assert other.get("/connexion", headers={"If-None-Match": kept}).status_code == 200
    sign_in(client, "camille.martin")
    personal = client.get("/mes-donnees")
    assert personal.headers["Cache-Control"] == "no-store" and "ETag" not in personal.headers


def test_an_htmx_part_goes_without_the_headers_only_a_document_obeys(client):
    whole = client.get("/connexion").headers
    part = client.get(
        "/connexion", headers={"HX-Request": "true", "HX-Target": "main#main", "HX-Source": "form"}
    ).headers
    for name in DOCUMENT_ONLY:
        assert name in whole and name not in part, name
    assert part["X-Content-Type-Options"] == "nosniff"
    assert "HX-Request" in part["Vary"]


def test_a_redirect_goes_without_the_headers_only_a_document_obeys(client):
    redirect = client.get("/mes-donnees")  # not signed in: to Connexion
    assert redirect.status_code in (302, 303)
    for name in DOCUMENT_ONLY - {"Referrer-Policy"}:
        assert name not in redirect.headers, name
    # It still governs the Referer of the request that follows it.
    assert "Referrer-Policy" in redirect.headers
    assert redirect.headers["X-Content-Type-Options"] == "nosniff"


def test_a_static_file_goes_with_its_type_pinned_and_reads_no_session(client, app):
    sign_in(client, "alfred.depot")
    page = client.get("/mes-donnees").text
    files = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert any(f.endswith(".js") for f in files) and any(f.endswith(".svg") for f in files)
    for url in files:
        with QueryLog() as queries:
            answer = client.get(url, headers={"Accept-Encoding": "br"})
        assert answer.status_code == 200, url
        assert queries.statements == [], url  # no connection, no session lookup
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        for name in DOCUMENT_ONLY | {"Set-Cookie", "X-Request-Id"}:
            assert name not in answer.headers, (url, name)
        assert answer.headers["Vary"] == "Accept-Encoding", url  # not Cookie


def test_a_missing_static_file_is_an_error_page_with_every_header(client):
    answer = client.get("/static/nulle-part.css")
    assert answer.status_code == 404
    for name in DOCUMENT_ONLY:
        assert name in answer.headers, name


def test_a_request_id_is_answered_when_given_or_when_something_failed(client):
    assert "X-Request-Id" not in client.get("/connexion").headers
    assert "X-Request-Id" in client.get("/nulle-part").headers


def test_an_answer_nothing_may_keep_names_no_variants(client):
    sign_in(client, "alfred.depot")
    for headers in ({}, {"HX-Request": "true", "HX-Target": "main#main", "HX-Source": "form"}):
        answer = client.get("/demande/engagement", headers={"Accept-Encoding": "br", **headers})
        assert answer.headers["Cache-Control"] == "no-store"
        assert "Vary" not in answer.headers, answer.headers["Vary"]
    # The part's headers, as the server writes them (gunicorn adds Date, Server and the
    # status line: about 80 bytes more).
    part = client.get(
        "/demande/engagement",
        headers={
            "HX-Request": "true",
            "HX-Target": "main#main",
            "HX-Source": "form",
            "Accept-Encoding": "br",
        },
    ).headers
    assert sum(len(f"{k}: {v}\r\n") for k, v in part.items()) <= 250, part


def test_unknown_page_is_a_helpful_404(client):
    response = client.get("/cartes/0000000000000001")
    assert response.status_code == 404
    assert "Page non trouvée" in response.text


def test_an_unexpected_error_is_a_page_not_a_traceback(app, client):
    @app.route("/boom")
    def boom():
        raise RuntimeError("boom")

    response = client.get("/boom")
    assert response.status_code == 500
    assert "Votre demande en cours est conservée" in response.text
    assert "RuntimeError" not in response.text


def test_htmx_request_gets_the_title_and_main_only(client):
    response = client.get(
        "/connexion", headers={"HX-Request": "true", "HX-Target": "main#main", "HX-Source": "form"}
    )
    assert response.text.startswith("<title>Connexion - CMI</title>")
    assert "<header" not in response.text and "<h1" in response.text


def test_htmx_request_for_another_target_gets_the_whole_page(client):
    response = client.get("/connexion", headers={"HX-Request": "true", "HX-Target": "body"})
    assert "<header" in response.text and "<footer" in response.text


def test_a_page_swapped_into_the_body_comes_without_the_rest_of_its_head(client):
    # Signing in with htmx swaps the <body>: the page's title and body, nothing the
    # page that asked has already (its policy's stylesheet, scripts, icon).
    response = client.get("/connexion", headers={"HX-Request": "true", "HX-Target": "body"})
    assert response.text.startswith("<title>Connexion - CMI</title>\n")
    for absent in ("<!DOCTYPE", "<head>", "<meta", "<script", "<style", "<link", "</body>"):
        assert absent not in response.text, absent
    whole = client.get("/connexion").text
    assert whole.startswith("<!DOCTYPE html>\n<html") and "<script" in whole


def test_a_page_still_running_htmx_2_names_main_by_its_id_alone(client):
    # Open in a tab across a deployment: its next swap must still get <main>'s part.
    response = client.get("/connexion", headers={"HX-Request": "true", "HX-Target": "main"})
    assert "<header" not in response.text and "<h1" in response.text
    # htmx 4 names the element « tag#id »: another element with « main » in it is not it.
    other = client.get("/connexion", headers={"HX-Request": "true", "HX-Target": "div#main-x"})
    assert "<header" in other.text


# -- « Mes données » ----------------------------------------------------------------------


def test_my_data_needs_sign_in(client):
    assert client.get("/mes-donnees").status_code == 303


def test_camille_sees_both_children_and_their_cards(client):
    sign_in(client, "camille.martin")
    html = client.get("/mes-donnees").text
    for expected in [
        "Léo MARTIN",
        "Inès MARTIN",
        "03/05/2014",
        "12/11/2017",
        "0000 0000 0000 0040",
        "0000 0000 0000 0041",
        "0000 0000 0000 0042",
        "Invalidité (cécité)",
        "Révoquée le 02/03/2026 (Carte perdue)",
        "Vous n'avez fait aucune demande.",
    ]:
        assert expected in html, expected
    assert "Alfred" not in html


def test_alfred_sees_his_identity_addresses_and_cards(client):
    sign_in(client, "alfred.depot")
    html = client.get("/mes-donnees").text
    for expected in [
        "16/09/1977",
        "App 22",
        "Résidence des Tilleuls",
        "25 route de la Libertine",
        "Hameau",
        "59000 LILLE",
        "Invalidité (besoin d&#39;accompagnement)",
        "0000 0000 0000 0002",
        "31/12/2033",
    ]:
        assert expected in html, expected
    assert "MARTIN" not in html


def test_joseph_sees_the_permanent_and_the_expired_card(client):
    sign_in(client, "joseph.quinn")
    html = client.get("/mes-donnees").text
    assert "À titre définitif" in html
    assert "Expirée le 31/12/2024" in html


def test_navette_is_shown_as_a_legal_person(client):
    sign_in(client, "navette.pmr")
    html = client.get("/mes-donnees").text
    assert "Navette Solidaire 59 (personne morale)" in html
    assert "Date de naissance" not in html


def test_marie_gets_the_mdph_guidance_not_an_empty_table(client):
    sign_in(client, "marie.durand")
    html = client.get("/mes-donnees").text
    assert "Carte européenne de stationnement (ancien format)" in html
    assert "Il reste 39 jours avant cette date : demandez dès maintenant une carte" in html


def test_save_data_gets_the_strongest_compression(client):
    client.get("/")  # the stylesheet kept: both pages link it
    normal = client.get("/accessibilite", headers={"Accept-Encoding": "br"})
    saving = client.get("/accessibilite", headers={"Accept-Encoding": "br", "Save-Data": "on"})
    assert brotli.decompress(saving.data) == brotli.decompress(normal.data)
    assert len(saving.data) <= len(normal.data)
    assert "Save-Data" in saving.headers["Vary"]


def test_french_elides_de_before_a_vowel_on_the_attestation_and_the_pages(db):
    from models.attestation import _statement
    from models.people import Account, Beneficiary
    from models.shared.i18n import of

    camille = Account.get(Account.username == "camille.martin")
    ines = Beneficiary.get(Beneficiary.number == 42)
    statement, _own = _statement(camille, ines, "Imprimerie Nationale")
    assert "représentant(e) légal(e) d'Inès MARTIN" in statement
    assert of("Léo MARTIN") == "de Léo MARTIN" and of("Élodie") == "d'Élodie"


# -- the signed-in citizen's menu ----------------------------------------------------------

MENU_LINKS = {"/mes-donnees": "account", "/demande": "request"}


def current_menu_link(html: str) -> str | None:
    """The area whose link in the menu says it is the current page."""
    nav = re.search(r'<nav id="site-nav".*?</nav>', html, re.S).group(0)
    current = re.findall(r'<a href="([^"]+)" aria-current="page"', nav)
    assert len(current) <= 1, current
    return MENU_LINKS[current[0]] if current else None


def test_the_menu_marks_the_area_of_every_signed_in_page(client, db):
    from views.shared.render import menu_area

    from .test_payments import pay_through_the_app

    sign_in(client, "alfred.depot")
    number, _ = pay_through_the_app(client)
    pages = [
        "/mes-donnees",
        "/mes-donnees/photo/1",
        "/demande",  # the wizard's first step for a new request
        f"/demandes/{number}",
        f"/demandes/{number}/attestation",
        "/j-ai-perdu-ma-carte",
        "/accessibilite",
    ]
    for url in pages:
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, url
        path = response.request.path
        assert current_menu_link(response.text) == menu_area(path), path


def test_an_htmx_answer_that_leaves_its_area_brings_the_menu_along(client):
    sign_in(client, "alfred.depot")
    leaving = {"HX-Request": "true", "HX-Target": "main#main", "HX-Source": "form"}
    # From « Mes données » to the request: the menu now marks « Demande ».
    answer = client.get(
        "/demande", headers={**leaving, "HX-Current-URL": "http://localhost/mes-donnees"}
    )
    assert 'data-hx-swap-oob="true"' in answer.text
    assert current_menu_link(answer.text) == "request"
    # And back: « Mes données ».
    answer = client.get(
        "/mes-donnees",
        headers={**leaving, "HX-Current-URL": "http://localhost/demande/engagement"},
    )
    assert current_menu_link(answer.text) == "account"
    # Within one area the menu stays as it is, and is not sent again.
    answer = client.get(
        "/demande", headers={**leaving, "HX-Current-URL": "http://localhost/demande/choix"}
    )
    assert answer.status_code == 200 and 'id="site-nav"' not in answer.text
    # An error stays at its address: the menu stays as it is too.
    answer = client.get(
        "/demande/nulle-part",
        headers={**leaving, "HX-Current-URL": "http://localhost/demande/choix"},
    )
    assert answer.status_code == 404 and '<h1 tabindex="-1">Page non trouvée</h1>' in answer.text
    assert 'id="site-nav"' not in answer.text
    # Under a script root, htmx names the page with it.
    under = {"environ_overrides": {"SCRIPT_NAME": "/cmi"}}
    answer = client.get(
        "/demande",
        headers={**leaving, "HX-Current-URL": "http://localhost/cmi/demande/choix"},
        **under,
    )
    assert answer.status_code == 200 and 'id="site-nav"' not in answer.text
    answer = client.get(
        "/accessibilite",
        headers={**leaving, "HX-Current-URL": "http://localhost/cmi/demande/choix"},
        **under,
    )
    assert current_menu_link(answer.text.replace("/cmi/", "/")) is None


def test_every_template_sees_every_global_of_the_environment(app, client):
    """Each template's globals are a copy taken when it loads (views/shared/render.py,
    Templates): nothing may add one later, or the templates loaded before miss it."""
    sign_in(client, "alfred.depot")
    for url in ["/", "/connexion", "/mes-donnees", "/demande", "/j-ai-perdu-ma-carte"]:
        client.get(url, follow_redirects=True)
    loaded = [t for t in app.jinja_env.cache.values() if t is not None]
    assert len(loaded) > 5
    for template in loaded:
        for name, value in app.jinja_env.globals.items():
            assert template.globals.get(name) is value, (template.name, name)


def test_addresses_built_once_are_the_ones_flask_builds(app):
    """Service.url_for keeps the addresses of pages without values, per script root."""
    from flask import Flask, url_for

    plain = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if not rule.arguments and "GET" in rule.methods
    ]
    assert len(plain) > 20
    for root in ["", "/cmi"]:
        with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": root}):
            for endpoint in plain:
                kept = url_for(endpoint)  # built, then kept
                assert url_for(endpoint) == kept == Flask.url_for(app, endpoint), endpoint
                assert kept.startswith(f"{root}/"), kept
            # Values, an anchor or an absolute address: built every time.
            assert url_for("pages.home", _external=True) == "http://localhost" + root + "/"
            assert url_for("auth.login", next="/x") == root + "/connexion?next=/x"
            assert app.extensions["assets"].url("favicon.svg").startswith(root + "/static/")


# -- under a script root (a proxy serving the service under /cmi) --------------------------

SCRIPT_ROOT = "/cmi"
ADDRESS = re.compile(r'\b(?:action|href|data-hx-get|data-hx-post)="(/[^"]*)"')


def under_the_root(html: str) -> list[str]:
    """The page's addresses on this site that leave the script root."""
    return [a for a in ADDRESS.findall(html) if not a.startswith(SCRIPT_ROOT + "/")]


def test_under_a_script_root_every_address_a_page_gives_stays_under_it(app):
    from models.demo.data import DEMO_PASSWORDS

    from .helpers import csrf_token

    client = app.test_client()
    under = {"environ_overrides": {"SCRIPT_NAME": SCRIPT_ROOT}}

    def get(path: str, browser=client):
        return browser.get(path, **under)

    def post(path: str, data: dict, browser=client):
        return browser.post(path, data=data, **under)

    for path in [
        "/",
        "/connexion",
        "/mot-de-passe-oublie",
        "/identifiant-oublie",
        "/j-ai-perdu-ma-carte",
        "/gestion/connexion",
    ]:
        page = get(path)
        assert page.status_code == 200, path
        assert under_the_root(page.text) == [], path

    # A page that needs signing in sends to Connexion, which then comes back to it.
    login = get("/demande/choix").headers["Location"]
    assert login == f"{SCRIPT_ROOT}/connexion?next={SCRIPT_ROOT}/demande/choix"
    # A refused form comes back to its own page (POST, redirect, GET), under the root.
    login = login.removeprefix(SCRIPT_ROOT)
    refused = post(
        login,
        {"csrf_token": csrf_token(get(login).text), "username": "alfred.depot", "password": "x"},
    )
    assert refused.status_code == 303
    assert refused.headers["Location"] == SCRIPT_ROOT + login
    # Signed in, the user goes where the page asked, under the root.
    password = DEMO_PASSWORDS["alfred.depot"]
    signed_in = post(
        login,
        {
            "csrf_token": csrf_token(get(login).text),
            "username": "alfred.depot",
            "password": password,
        },
    )
    assert signed_in.headers["Location"] == SCRIPT_ROOT + "/demande/choix"
    # An address outside the root is not followed.
    other = app.test_client()
    outside = post(
        "/connexion?next=/ailleurs",
        {
            "csrf_token": csrf_token(get("/connexion", browser=other).text),
            "username": "alfred.depot",
            "password": password,
        },
        browser=other,
    )
    assert outside.status_code == 303
    assert outside.headers["Location"].startswith(SCRIPT_ROOT + "/"), outside.headers["Location"]
    for path in ["/mes-donnees", "/demande/engagement", "/mes-donnees/photo/1"]:
        page = get(path)
        assert page.status_code == 200, path
        assert under_the_root(page.text) == [], path

    # A form sent from a page too old: the page that says so links back under the root.
    expired = post("/demande/engagement", {"csrf_token": "ancien", "accept": "y"})
    assert expired.status_code == 400 and under_the_root(expired.text) == []
    assert f'href="{SCRIPT_ROOT}/demande/engagement"' in expired.text


def test_no_template_gives_the_request_path_as_an_address():
    """An address from request.path leaves the script root: templates use this_address()."""
    folder = ROOT / "partials"
    found = [
        str(template.relative_to(folder))
        for template in folder.rglob("*.html")
        if re.search(r"request\.(full_)?path", template.read_text(encoding="utf-8"))
    ]
    assert found == []
