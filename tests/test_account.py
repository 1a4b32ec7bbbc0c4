"""« Mes données » stays one page's worth of work however many requests an account has."""

from __future__ import annotations

from datetime import date

import pytest

from models import ordering, payments
from models.cards import INVALIDITE, Card
from models.people import Account, Beneficiary, Mandate
from models.requests import record_attestation_size

from .helpers import QueryLog, sign_in
from .test_payments import apply, provider_answer, recorded_request

SECRET = "demo-only-payment-secret"
TODAY = date(2026, 11, 22)


def paid_requests(count: int, first: int = 0) -> None:
    """``count`` paid duplicata requests for joseph.quinn, one card each."""
    joseph = Account.get(Account.username == "joseph.quinn")
    holder = Beneficiary.select().join(Mandate).where(Mandate.account == joseph).get()
    for index in range(first, first + count):
        number = f"{7_000_000_000_000_000 + index:016d}"
        Card.create(
            number=number,
            beneficiary=holder,
            mention=INVALIDITE,
            valid_from=date(2024, 1, 1),
            valid_until=date(2034, 12, 31),
        )
        request = recorded_request("joseph.quinn", selection={number: "Titre perdu"})
        ordering.check_delivery(request)
        assert apply(*provider_answer(payments.start_payment(request, 902))).newly_paid
        record_attestation_size(request, 2100)


def queries_of_my_data(client) -> tuple[QueryLog, str]:
    with QueryLog() as log:
        page = client.get("/mes-donnees")
    assert page.status_code == 200
    return log, page.text


@pytest.fixture
def no_pdf_built(monkeypatch):
    """Building a PDF during the test fails it."""
    import views.shared.documents

    def refuse(*_args, **_kwargs):
        raise AssertionError("a PDF was built")

    monkeypatch.setattr(views.shared.documents, "pdf_from_html", refuse)


def test_my_data_reads_the_same_few_tables_for_1_or_20_paid_requests(client, db, no_pdf_built):
    sign_in(client, "joseph.quinn")
    paid_requests(1)
    one, _ = queries_of_my_data(client)
    paid_requests(19, first=1)
    twenty, page = queries_of_my_data(client)

    assert page.count("Payée le") == 20
    assert page.count("(PDF, 2 Ko)") == 20
    assert len(twenty) == len(one), "\n".join(twenty.statements)
    assert len(twenty) <= 12, "\n".join(twenty.statements)
    # The lines of every request in one query, not one per row.
    assert len(twenty.touching("requestline")) <= 2, twenty.touching("requestline")
