"""Property-based fuzzing of every route that takes input, on SQLite and PostgreSQL.

For each route, hypothesis draws requests as a hostile client would send
them: each field missing, repeated or filled with a valid answer, random text
(control characters, NUL, bidirectional marks), lone surrogates and invalid
UTF-8, values of 200 to 70,000 characters, or another account's card, request
or transaction; urlencoded or multipart (where a text field may come as a
file); with or without htmx's headers; sometimes with a database that refuses,
drops the connection or stays locked during the request. Every answer must hold:

- never a 5xx, but a 503 with Retry-After when the database failed;
- the session cookie stays under 4 KB (a browser drops a bigger one);
- a refused answer (400, 404, 405, 409, 413, 422, or the same page again)
  changed nothing in the database (failed sign-ins are counted on purpose and
  not compared);
- the valid answers of a refused form come back in their fields;
- every form of an HTML answer, and every redirect after a POST, goes where the
  page's form-action policy lets the browser go;
- for the forgotten-credential forms, the request does the same work whether
  or not an account exists.

``FUZZ_EXAMPLES`` sets the examples per route and database (default 40);
the counts are printed at the end of the run.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from html import unescape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from peewee import OperationalError

import models
from models import ordering, payments, sips
from models.cards import INVALIDITE, STATIONNEMENT, Card
from models.citizen import auth, credentials
from models.demo import provider
from models.people import Account, Address, Beneficiary, Mandate
from models.shared.db import database
from models.shared.security import hash_password
from views.shared.web import content_security_policy

from .helpers import QueryLog
from .pages import Page

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
SECRET = "demo-only-payment-secret"
ELSEWHERE = "https://paiement.example.net"

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    # The same examples on every CI run (a red build is always reproducible);
    # new ones at every run on a developer's machine.
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=list(HealthCheck),
)

# Examples run per route, printed at the end of the session (see conftest).
COUNTS: Counter = Counter()


# -- the people and the situations a request is sent in ---------------------------------------


PASSWORD = "Fuzz-2026-password"
_password_hash: list[str] = []


def password_hash() -> str:
    if not _password_hash:
        _password_hash.append(hash_password(PASSWORD))
    return _password_hash[0]


_serial = iter(range(10**6))


def new_account() -> tuple[Account, list[Card]]:
    """A fresh account acting for one person with an Invalidité and a Stationnement card."""
    n = next(_serial)
    address = Address.create(
        name=f"Usager FUZZ {n}", street="1 rue du Test", postcode="59000", city="LILLE"
    )
    person = Beneficiary.create(
        number=5_000_000 + n,
        last_name="FUZZ",
        first_name=f"Usager{n}",
        birth_date=date(1980, 1, 1),
        address=address,
        delivery_address=address.copy(),
    )
    account = Account.create(
        username=f"fuzz.{n}",
        password_hash=password_hash(),
        email=f"fuzz.{n}@example.org",
        display_name=f"Usager{n} FUZZ",
    )
    Mandate.create(account=account, beneficiary=person)
    cards = [
        Card.create(
            number=f"{8_000_000_000_000_000 + 2 * n + i:016d}",
            beneficiary=person,
            mention=mention,
            valid_from=date(2024, 1, 1),
            valid_until=date(2033, 12, 31),
        )
        for i, mention in enumerate((INVALIDITE, STATIONNEMENT))
    ]
    return account, cards


# Where each route's page is: its GET has already started the draft, as a browser's would.
STEPS = (
    "anonymous",
    "signed_in",
    "engagement",
    "choix",
    "selection",
    "confirmation",
    "livraison",
    "paiement",
)


@dataclass
class Scene:
    """One client in one situation: who it is, how far its request went."""

    client: object
    account: Account | None = None
    cards: list[Card] = field(default_factory=list)
    request: models.CardRequest | None = None
    payment: models.Payment | None = None
    reset_token: str | None = None
    token: str = ""

    def path_values(self) -> dict[str, str]:
        return {
            "reference": self.payment.transaction_reference if self.payment else "0",
            "token": self.reset_token or "x",
            "card": self.cards[0].number if self.cards else "0",
        }


def set_scene(app, step: str, extra: str = "") -> Scene:
    """A client brought to ``step`` through the models (fast), signed in through a session."""
    client = app.test_client()
    # Each scene is another visitor (the per-client limit is tested on its own).
    client.environ_base["REMOTE_ADDR"] = f"10.{next(_serial) % 250}.{secrets.randbelow(250)}.1"
    scene = Scene(client)
    with database.connection_context():
        if step == "anonymous":
            return with_token(scene)
        scene.account, scene.cards = new_account()
        sid = auth.open_session(scene.account)
        order = STEPS.index(step)
        if order >= STEPS.index("engagement"):
            scene.request = ordering.start_or_resume(scene.account)
        if order >= STEPS.index("choix"):
            ordering.accept_terms(scene.request)
        if order >= STEPS.index("selection"):
            ordering.choose_kind(scene.request, "duplicata")
        if order >= STEPS.index("confirmation"):
            ordering.save_selection(scene.request, {scene.cards[0].number: "Titre perdu"}, True)
        if order >= STEPS.index("livraison"):
            assert ordering.record(scene.request, date(2026, 11, 22))
            scene.request = models.CardRequest.get_by_id(scene.request.id)
        if order >= STEPS.index("paiement"):
            ordering.check_delivery(scene.request)
            scene.request = models.CardRequest.get_by_id(scene.request.id)
            scene.payment = payments.start_payment(
                scene.request, payments.amount_due(scene.request)
            )
        if extra == "provider":
            order_data = sips.HostedPaymentPage("x", "002001000000001", SECRET).redirection(
                scene.payment.transaction_reference,
                scene.payment.amount,
                str(scene.request.number),
                "http://localhost/paiement/retour",
                "http://localhost/paiement/notification",
            )
            provider.open_transaction(order_data.fields["Data"], order_data.fields["Seal"], SECRET)
        if extra == "reset":
            scene.reset_token = auth.create_password_reset(scene.account)
    client.set_cookie("cmi_sid", sid)
    with client.session_transaction() as session:
        if extra == "provider":
            session["provider_transactions"] = [scene.payment.transaction_reference]
    return with_token(scene)


def with_token(scene: Scene) -> Scene:
    """The form token of this client's session, read from a page as a browser would."""
    page = scene.client.get("/connexion" if scene.account is None else "/accessibilite")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    scene.token = match.group(1) if match else ""
    return scene


# -- the values --------------------------------------------------------------------------------


# Identifiers of another account: its cards, its request and its payment (fuzz_app).
FOREIGN: list[str] = []

CONTROL = st.characters(codec=None, categories=["Cc", "Cf", "Co", "Zl", "Zp"])
hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=CONTROL, min_size=1, max_size=8),
    st.sampled_from(
        [
            "\x00",
            "a\x00b",
            "é",
            "\u202eevil",
            "\ufeff",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "%00",
            "../../etc/passwd",
            "{{ 7*7 }}",
            "\r\nSet-Cookie: x=1",
            "|merchantId=1",
            "=",
        ]
    ),
    st.sampled_from([201, 1_000, 5_000, 70_000]).map(lambda n: secrets.token_urlsafe(n)[:n]),
)
# Bytes that are not UTF-8, and lone surrogates (sent as their invalid UTF-8 bytes).
raw_bytes = st.one_of(
    st.binary(min_size=1, max_size=12),
    st.sampled_from([b"\xff\xfe", b"\xed\xa0\x80", b"\xc3", b"a\xc0\xafb"]),
)


@st.composite
def with_control_character(draw, valid: tuple[str, ...]):
    """A valid answer with a control character inside (NUL most often): pasted, or forged."""
    text = draw(st.sampled_from(valid))
    control = draw(st.one_of(st.just("\x00"), st.characters(codec=None, categories=["Cc"])))
    at = draw(st.integers(0, len(text)))
    return text[:at] + control + text[at:]


@dataclass(frozen=True)
class Values:
    valid: tuple[str, ...]
    any: st.SearchStrategy


def values(*valid: str) -> Values:
    """A field's value: a valid answer (maybe with a control character), hostile text,
    raw bytes, or another account's id."""
    return Values(
        valid,
        st.one_of(
            st.sampled_from(valid) if valid else st.nothing(),
            # Twice as likely: what reaches deepest (PostgreSQL refuses NUL in any query).
            with_control_character(valid) if valid else st.nothing(),
            with_control_character(valid) if valid else st.nothing(),
            hostile_text,
            raw_bytes,
            st.builds(lambda i: FOREIGN[i % len(FOREIGN)] if FOREIGN else "0", st.integers(0, 50)),
        ),
    )


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str  # may name {reference}, {token}, {card}
    step: str
    fields: dict = field(default_factory=dict)  # name -> Values
    extra: str = ""  # "provider": a transaction opened; "reset": a reset link
    in_query: bool = False


ADDRESS = {
    "name": values("Alfred DEPOT"),
    "apartment": values("", "App 22"),
    "building": values(""),
    "street": values("25 route de la Libertine"),
    "locality": values("", "Hameau"),
    "postcode": values("59000", "59 000", "1000"),
    "city": values("LILLE"),
    "country": values("France", "Belgique"),
    "remember": values("y"),
}
SELECTION = {
    "select_{card}": values("y"),
    "reason_{card}": values("Titre perdu", "Titre volé", "Titre détruit ou détérioré"),
    "honour": values("y"),
    "action": values("valider", "precedent"),
}

ROUTES = [
    Route("connexion", "POST", "/connexion", "anonymous",
          {"username": values("alfred.depot", "nobody"), "password": values("Tilleuls-2026")}),
    Route("identifiant oublié", "POST", "/identifiant-oublie", "anonymous",
          {"email": values("alfred.depot@example.org", "nobody@example.org", "x@")}),
    Route("mot de passe oublié", "POST", "/mot-de-passe-oublie", "anonymous",
          {"username": values("alfred.depot", "nobody")}),
    Route("nouveau mot de passe", "POST", "/mot-de-passe/{token}", "signed_in",
          {"password": values("Nouveau-mot-2026"), "confirmation": values("Nouveau-mot-2026")},
          extra="reset"),
    Route("engagement", "POST", "/demande/engagement", "engagement",
          {"accept": values("y"), "action": values("suivant")}),
    Route("choix", "POST", "/demande/choix", "choix",
          {"kind": values("duplicata", "second_exemplaire"),
           "action": values("suivant", "precedent")}),
    Route("sélection", "POST", "/demande/selection", "selection", SELECTION),
    Route("confirmation", "POST", "/demande/confirmation", "confirmation", {}),
    Route("livraison", "POST", "/demande/livraison", "livraison",
          {"correct": values("oui", "non"), "editing": values("1", ""),
           "action": values("valider", "precedent"), **ADDRESS}),
    Route("livraison (adresse)", "GET", "/demande/livraison/adresse", "livraison",
          {"correct": values("oui", "non")}, in_query=True),
    Route("paiement", "POST", "/demande/paiement", "paiement",
          {"action": values("payer", "precedent")}),
    Route("retour du paiement", "POST", "/paiement/retour", "paiement",
          {"Data": values("amount=902"), "Seal": values("0" * 64)}),
    Route("notification du paiement", "POST", "/paiement/notification", "paiement",
          {"Data": values("amount=902"), "Seal": values("0" * 64)}),
    Route("prestataire : commande", "POST", "/paiement-securise", "paiement",
          {"Data": values("amount=902"), "Seal": values("0" * 64)}),
    Route("prestataire : carte", "POST", "/paiement-securise/{reference}", "paiement",
          {"number": values("4100 0000 0000 0001", "4000 0000 0000 0002", "1234"),
           "expiry": values("12/29", "13/29", "01/20"), "security_code": values("123", "12"),
           "action": values("valider", "annuler")}, extra="provider"),
    Route("j'ai perdu ma carte", "GET", "/j-ai-perdu-ma-carte", "anonymous",
          {"carte": values("cmi", "ancienne", "identite", "inconnue"),
           "evenement": values("perdue", "volee", "retrouvee"),
           "codes": values("oui", "courriel", "jamais"), "etape": values("carte", "codes"),
           "modifier": values("carte", "evenement"), "facile": values("1", "0")},
          in_query=True),
    Route("photo", "POST", "/mes-donnees/photo/1", "signed_in",
          {"photo": values("photo"), "photo-trop-lourde": values("", "7340032")}),
]  # fmt: skip
TEXT_INPUTS = {"username", "email", *[name for name in ADDRESS if name != "remember"]}
NEVER_SHOWN_AGAIN = {"password", "confirmation", "number", "expiry", "security_code"}


# -- the requests ------------------------------------------------------------------------------


@dataclass
class Sent:
    fields: list[tuple[str, str | bytes, bool]]  # name, value, sent as a file
    multipart: bool
    htmx: bool
    token: str  # "valid", "missing", "forged"
    seal_it: bool  # payment routes: seal the random Data with the right key
    fault: str  # "", "refused", "dropped", "locked"
    fault_after: int
    flood: int = 0  # extra fields of 200 random characters, none of the form's


def encode(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


def build_body(sent: Sent, token: str) -> tuple[bytes, str]:
    pairs = list(sent.fields)
    pairs += [(f"extra{i}", secrets.token_urlsafe(150), False) for i in range(sent.flood)]
    if sent.token != "missing":
        pairs.insert(0, ("csrf_token", token if sent.token == "valid" else "forged", False))
    if not sent.multipart:
        body = "&".join(
            urllib.parse.quote_from_bytes(encode(k))
            + "="
            + urllib.parse.quote_from_bytes(encode(v))
            for k, v, _file in pairs
        )
        return body.encode(), "application/x-www-form-urlencoded"
    boundary = "fuzz" + secrets.token_hex(8)
    parts = []
    for name, value, as_file in pairs:
        disposition = f'form-data; name="{name}"'
        if as_file:
            disposition += '; filename="answer.txt"'
        parts.append(
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
            + encode(value)
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@st.composite
def requests_for(draw, route: Route) -> Sent:
    """Either one field hostile among valid answers (so that it reaches the code
    behind the form's other checks), or every field drawn at random."""
    fields = []
    one_hostile = route.fields and draw(st.booleans())
    target = draw(st.sampled_from(sorted(route.fields))) if one_hostile else None
    for name, field_values in route.fields.items():
        if one_hostile and name != target:
            if field_values.valid:
                fields.append((name, draw(st.sampled_from(field_values.valid)), False))
            continue
        presence = draw(st.sampled_from(["one", "one", "one", "missing", "twice"]))
        for _ in range({"one": 1, "missing": 0, "twice": 2}[presence]):
            as_file = draw(st.booleans()) and draw(st.booleans())
            fields.append((name, draw(field_values.any), as_file))
    return Sent(
        fields=fields,
        multipart=draw(st.booleans()),
        htmx=draw(st.booleans()),
        token=draw(st.sampled_from(["valid"] * 8 + ["missing", "forged"])),
        seal_it=draw(st.sampled_from([False, False, False, True])),
        fault=draw(st.sampled_from([""] * 12 + ["refused", "dropped", "locked"])),
        fault_after=draw(st.integers(0, 6)),
        flood=draw(st.sampled_from([0, 0, 0, 280])),
    )


class Faults:
    """Make the database fail during one request, as a real outage would."""

    def __init__(self, kind: str, after: int) -> None:
        self.kind, self.after, self.calls = kind, after, 0

    def __enter__(self):
        db = database.obj
        self.connect, self.execute = db._connect, db.execute_sql
        if self.kind == "refused":
            db._connect = self.refuse
        elif self.kind:
            db.execute_sql = self.fail_later
        return self

    def refuse(self, *_args, **_kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    def fail_later(self, *args, **kwargs):
        self.calls += 1
        if self.calls > self.after:
            message = (
                "server closed the connection unexpectedly"
                if self.kind == "dropped"
                else "database is locked"
            )
            raise OperationalError(message)
        return self.execute(*args, **kwargs)

    def __exit__(self, *_exc):
        db = database.obj
        db._connect, db.execute_sql = self.connect, self.execute


# -- what must hold ----------------------------------------------------------------------------

REFUSED = {400, 404, 405, 409, 413, 422}
SNAPSHOT = [
    (models.CardRequest, ["state", "kind", "number", "terms_accepted_at", "selection_json",
                          "honour_declared", "delivery_address", "delivery_checked_at", "paid_at",
                          "confirmation_email"]),
    (models.RequestLine, ["request", "card", "kind", "reason", "active", "new_card"]),
    (models.Card, ["number", "revoked_on", "revocation_reason", "in_production"]),
    (models.Payment, ["request", "transaction_reference", "amount", "state"]),
    (models.Address, models.Address.FIELDS),
    (models.OutboxEmail, ["recipient"]),
    (models.PasswordReset, ["account", "used_at"]),
    (models.CredentialRequest, ["kind", "key"]),
    (models.ProviderTransaction, ["reference", "state", "response_code"]),
    (models.Account, ["username", "password_hash", "email"]),
    (models.Counter, ["name", "value"]),
]  # fmt: skip


def snapshot() -> dict:
    with database.connection_context():
        return {
            model.__name__: sorted(
                tuple(str(v) for v in row)
                for row in model.select(
                    model._meta.primary_key, *[getattr(model, c) for c in columns]
                ).tuples()
            )
            for model, columns in SNAPSHOT
        }


def allowed_targets(policy: str) -> list[str]:
    match = re.search(r"form-action ([^;]+)", policy)
    return match.group(1).split() if match else []


def goes_where_allowed(url: str, policy: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme:
        return True  # this site
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin == "http://localhost" or origin in allowed_targets(policy)


def check_forms_and_redirects(route: Route, response, app) -> None:
    # An htmx part has no policy of its own: the page it is swapped into applies its own.
    policy = response.headers.get("Content-Security-Policy") or content_security_policy(app)
    if route.method == "POST" and response.status_code in (301, 302, 303, 307, 308):
        assert goes_where_allowed(response.headers["Location"], policy), response.headers
    if response.mimetype == "text/html":
        for action in re.findall(r'<form[^>]* action="([^"]*)"', response.get_data(as_text=True)):
            assert goes_where_allowed(unescape(action), policy), (action, policy)


def check_answers_kept(scene: Scene, route: Route, sent: Sent, response) -> None:
    """The valid text answers of a refused form come back in their fields."""
    if response.status_code == 303:
        page = scene.client.get(response.headers["Location"])
    elif response.status_code == 422:
        page = response
    else:
        return
    if page.status_code != 200:
        return
    sent_text = [v for _n, v, _f in sent.fields if isinstance(v, str)]
    if sum(len(v) for v in sent_text) > 1000:
        return  # beyond what a page keeps in all (see views.shared.render)
    shown = {
        node.attrs["name"]: node.attrs.get("value", "")
        for node in Page(page.get_data(as_text=True)).root.find_all("input")
        if node.attrs.get("name") in TEXT_INPUTS and node.attrs.get("type", "text") == "text"
    }
    sent_once = Counter(name for name, _v, _f in sent.fields)
    for name, value, as_file in sent.fields:
        if name not in shown or sent_once[name] != 1 or as_file or isinstance(value, bytes):
            continue
        if re.search(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]", value) or len(value) > 200:
            continue  # not a valid answer: it may be refused without being shown again
        assert shown[name] == value, (name, value, shown[name])


def run_example(app, route: Route, sent: Sent) -> None:
    scene = set_scene(app, route.step, route.extra)
    path = route.path.format(**scene.path_values())
    fields = list(sent.fields)
    if sent.seal_it and route.name in PAYMENT_ROUTES and scene.payment is not None:
        data = "|".join(
            f"{k}={v}" for k, v in [
                ("amount", str(scene.payment.amount)), ("currencyCode", "978"),
                ("transactionReference", scene.payment.transaction_reference),
                ("responseCode", "00"),
            ]
        ) + "|" + "|".join(
            f"{n}={v if isinstance(v, str) else v.decode('latin-1')}" for n, v, _f in fields
        )  # fmt: skip
        fields = [("Data", data, False), ("Seal", sips.seal(data, SECRET), False)]
    fields = [(n.format(**scene.path_values()), v, f) for n, v, f in fields]
    sent = dataclasses.replace(sent, fields=fields)
    headers = (
        {"HX-Request": "true", "HX-Target": "main#main", "HX-Source": "form"} if sent.htmx else {}
    )
    before = snapshot()
    with Faults(sent.fault, sent.fault_after):
        if route.in_query:
            query = "&".join(
                urllib.parse.quote_from_bytes(encode(k))
                + "="
                + urllib.parse.quote_from_bytes(encode(v))
                for k, v, _f in fields
            )
            response = scene.client.get(f"{path}?{query}", headers=headers)
        else:
            body, content_type = build_body(sent, scene.token)
            response = scene.client.post(
                path, data=body, content_type=content_type, headers=headers
            )
    COUNTS[route.name] += 1
    status = response.status_code
    if sent.fault:
        assert status < 500 or status == 503, (route.name, status, sent)
        if status == 503:
            assert response.headers.get("Retry-After"), response.headers
        return
    assert status < 500, (route.name, status, sent, response.get_data(as_text=True)[:2000])
    cookie = response.headers.get("Set-Cookie", "")
    assert len(cookie) < 4096, (route.name, len(cookie))
    check_forms_and_redirects(route, response, scene.client.application)
    # The same page again (POST, redirect, GET with the errors): not « Non » opening the
    # address fields, which goes to the same path with a query.
    again = response.headers.get("Location", "") == path
    if status in REFUSED or (status == 303 and again):
        assert snapshot() == before, (route.name, status, sent)
        if route.method == "POST":
            check_answers_kept(scene, route, sent, response)
    check_no_flood()


def check_no_flood() -> None:
    """However the forms are used, nobody gets more than a few emails an hour about their
    credentials, and an account has one live reset link at most."""
    with database.connection_context():
        per_recipient = Counter(
            email.recipient
            for email in models.OutboxEmail.select().where(
                models.OutboxEmail.subject.contains("Carte mobilité inclusion")
            )
        )
        live = Counter(
            reset.account_id
            for reset in models.PasswordReset.select().where(models.PasswordReset.used_at.is_null())
        )
    assert max(per_recipient.values(), default=0) <= credentials.PER_RECIPIENT, per_recipient
    assert max(live.values(), default=0) <= 1, live


PAYMENT_ROUTES = {"retour du paiement", "notification du paiement", "prestataire : commande"}


def fuzz(app, route: Route) -> None:
    @SETTINGS
    @given(sent=requests_for(route))
    def one(sent):
        run_example(app, route, sent)

    one()


@pytest.fixture
def fuzz_app(app):
    """The demo, plus another account whose ids are the « foreign » values."""
    with database.connection_context():
        account, cards = new_account()
        request = ordering.start_or_resume(account)
        ordering.accept_terms(request)
        ordering.choose_kind(request, "duplicata")
        ordering.save_selection(request, {cards[0].number: "Titre volé"}, True)
        ordering.record(request, date(2026, 11, 22))
        request = models.CardRequest.get_by_id(request.id)
        ordering.check_delivery(request)
        payment = payments.start_payment(request, 902)
    FOREIGN[:] = [
        cards[0].number,
        cards[1].number,
        str(request.number),
        payment.transaction_reference,
    ]
    return app


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_no_input_breaks_a_route(fuzz_app, route):
    fuzz(fuzz_app, route)


@pytest.fixture
def shop_app(database_url, make_app):
    """The service with its provider on another site."""
    application = make_app(database_url, PAYMENT_URL=f"{ELSEWHERE}/paypage")
    models.create_tables()
    from models.demo.data import load_demo_data

    load_demo_data()
    FOREIGN[:] = []
    return application


PAYER = next(route for route in ROUTES if route.name == "paiement")


def test_payer_leads_only_where_the_policy_allows(shop_app):
    fuzz(shop_app, PAYER)
    scene = set_scene(shop_app, "paiement")
    handoff = scene.client.get("/demande/paiement/envoi")
    check_forms_and_redirects(PAYER, handoff, shop_app)
    assert f'action="{ELSEWHERE}/paypage"' in handoff.get_data(as_text=True)


@st.composite
def identifiers(draw):
    return draw(
        st.one_of(
            st.sampled_from(["alfred.depot", "joseph.quinn"]),
            st.from_regex(r"[a-z]{3,10}\.[a-z]{3,10}", fullmatch=True),
        )
    )


def test_forgotten_password_does_the_same_work_for_any_identifier(app):
    """The statements run before the answer leaves depend on nothing but the form."""
    shapes = {}

    @SETTINGS
    @given(identifier=identifiers())
    def one(identifier):
        scene = set_scene(app, "anonymous")
        with QueryLog() as log:
            response = scene.client.post(
                "/mot-de-passe-oublie",
                data={"csrf_token": scene.token, "username": identifier},
            )
        COUNTS["mot de passe oublié (même travail)"] += 1
        if not response.headers.get("Location", "").startswith("/courriel-envoye"):
            return  # a limit reached: refused the same way for everyone
        shape = tuple(re.sub(r"\?|%s|'[^']*'|\b\d+\b", "_", sql) for sql in log.statements)
        shapes.setdefault(shape, identifier)
        if len(shapes) > 1:
            first, second = list(shapes)
            import difflib

            diff = "\n".join(difflib.unified_diff(list(first), list(second), lineterm=""))
            raise AssertionError(f"{list(shapes.values())} do different work:\n{diff}")

    one()


# -- addresses: every page that reads a part of its address -----------------------------------

ADDRESSES = [
    "/demandes/{}",
    "/demandes/{}/attestation",
    "/demandes/{}/attestation.pdf",
    "/paiement-securise/{}/resultat",
    "/paiement-securise/{}/recu",
    "/mot-de-passe/{}",
    "/connexion?next={}",
    "/connexion?expiree={}",
    "/demande/paiement?resultat={}",
    "/demande/livraison?modifier={}",
    "/courriel-envoye?sujet={}",
    "/static/{}",
]
address_parts = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(
        ["0", "10000", "2147483648", "9" * 40, "%00", "%ff", "..%2f..", "//evil.example"]
    ),
    st.text(max_size=30).map(lambda t: urllib.parse.quote(t.encode("utf-8", "surrogatepass"))),
    raw_bytes.map(urllib.parse.quote_from_bytes),
)


@pytest.mark.parametrize("template", ADDRESSES)
def test_no_address_breaks_a_page(fuzz_app, template):
    """Numbers beyond any column, NUL and invalid UTF-8 in a path or a query."""

    @SETTINGS
    @given(part=address_parts, signed_in=st.booleans())
    def one(part, signed_in):
        scene = set_scene(fuzz_app, "signed_in" if signed_in else "anonymous")
        response = scene.client.get(template.format(part))
        COUNTS["adresse " + template.split("{")[0].rstrip("/?=")] += 1
        assert response.status_code < 500, (template, part, response.status_code)

    one()


hosts = st.one_of(
    st.sampled_from(["a" * 64 + ".example.org", "", ".", "[::1", "exa mple.org", "é.example",
                     "localhost:99999", "x" * 300, "127.0.0.1:0"]),
    # What a client can put in a header line (no line break: no server would read past it).
    st.text(alphabet=st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=80),
)  # fmt: skip


@pytest.mark.parametrize("path", ["/connexion", "/mot-de-passe-oublie", "/nulle-part"])
def test_no_host_header_breaks_a_page(fuzz_app, path):
    """The Host header is the client's to write: a page, never a 500."""

    @SETTINGS
    @given(host=hosts)
    def one(host):
        client = fuzz_app.test_client()
        response = client.get(path, headers={"Host": host})
        COUNTS["en-tête Host"] += 1
        assert response.status_code < 500, (host, response.status_code)

    one()
