"""« Espace gestionnaire » in a browser, JavaScript on and off, desktop and phone, with the
accessibility checks on every state: find a request and read its history, record a refund
the citizen then sees, unlock an account or an agent, change an e-mail address, the
figures."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from models import Account, cmi_import, letters, ordering, payments
from models.citizen.auth import MAX_FAILURES, LoginFailure
from models.demo.data import DEMO_AGENTS
from models.operator.agents import totp_now
from models.payments import REFUND_DUE, Payment
from models.requests import CardRequest
from models.shared.clock import clock
from models.shared.db import database
from tests.test_payments import apply, provider_answer, recorded_request

from .test_foundation import sign_in

SEARCH_LABEL = "Numéro de demande ou de carte, nom, identifiant ou adresse électronique"


@pytest.fixture
def console(fresh_service):
    if not fresh_service.local:
        pytest.skip(
            "les états de la console se préparent dans la base du service lancé par la suite "
            "(make test) : non vérifiés contre une instance"
        )
    return fresh_service


def alfreds_paid_request() -> int:
    """Alfred's duplicata, recorded and paid through the provider's protocol."""
    with database.connection_context():
        request = recorded_request()
        ordering.check_delivery(request)
        apply(*provider_answer(payments.start_payment(request, 902)))
        return CardRequest.get_by_id(request.id).number


def agent_sign_in(page: Page, username: str = "agent.demo", code: str | None = None) -> None:
    _name, _role, password, secret = DEMO_AGENTS[username]
    page.goto("/gestion/connexion")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_label("Code de l'application d'authentification").fill(code or totp_now(secret))
    page.get_by_role("button", name="Se connecter").click()
    if code is None:  # signed in once the console's menu shows
        expect(page.get_by_role("navigation", name="Menu de l'espace gestionnaire")).to_be_visible()


def result_heading(page: Page, text: str) -> None:
    """The action's result: the page's heading and title, with the focus on it."""
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(text)
    expect(heading).to_be_focused()
    expect(page).to_have_title(f"{text} - Espace gestionnaire - CMI")


def test_an_agent_finds_alfreds_paid_request_and_reads_its_history(page: Page, console, a11y):
    number = alfreds_paid_request()
    page.goto("/gestion/connexion")
    expect(page).to_have_title("Connexion - Espace gestionnaire - CMI")
    a11y.check(page, "Espace gestionnaire : connexion")
    agent_sign_in(page, code="000000")
    expect(page).to_have_title("Erreur : Connexion - Espace gestionnaire - CMI")
    expect(page.get_by_role("link", name=re.compile("le code est incorrect"))).to_be_visible()
    a11y.check(page, "Espace gestionnaire : connexion, code incorrect")

    agent_sign_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Rechercher une demande ou une personne"
    )
    a11y.check(page, "Espace gestionnaire : recherche")
    page.get_by_label(SEARCH_LABEL).fill(str(number))
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", name="1 demande")).to_be_visible()
    a11y.check(page, "Espace gestionnaire : résultats")

    page.get_by_role("link", name=str(number), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Demande n° {number}")
    history = page.get_by_role("list").filter(has_text="Paiement accepté")
    expect(history.get_by_role("listitem").first).to_contain_text("Demande commencée")
    expect(history.get_by_role("listitem").last).to_contain_text("Paiement accepté")
    a11y.check(page, "Espace gestionnaire : demande payée")

    page.get_by_role("link", name="Chiffres").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Chiffres du service")
    expect(
        page.get_by_role("row", name=re.compile("Cartes payées pas encore envoyées"))
    ).to_contain_text("1")
    a11y.check(page, "Espace gestionnaire : chiffres")


def test_a_supervisor_records_a_refund_that_the_citizen_then_sees(page: Page, console, a11y):
    number = alfreds_paid_request()
    with database.connection_context():
        request = CardRequest.get(CardRequest.number == number)
        Payment.create(
            request=request, transaction_reference="77770001", amount=902, state=REFUND_DUE
        )
    agent_sign_in(page, "superviseur.demo")
    page.goto(f"/gestion/demandes/{number}")
    page.get_by_role("link", name="Enregistrer le remboursement du paiement 77770001").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Enregistrer le remboursement d'un paiement"
    )
    a11y.check(page, "Espace gestionnaire : remboursement")
    page.get_by_label("Montant remboursé, en euros").fill("90,20")
    page.get_by_role("button", name="Enregistrer le remboursement").click()
    expect(page.get_by_role("link", name=re.compile("Saisissez un montant"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Saisissez la référence"))).to_be_visible()
    a11y.check(page, "Espace gestionnaire : remboursement, erreurs")
    page.get_by_label("Montant remboursé, en euros").fill("9,02")
    page.get_by_label("Référence du remboursement chez le prestataire").fill("RB-2026-17")
    page.get_by_role("button", name="Enregistrer le remboursement").click()
    result_heading(page, "Remboursement de 9,02 € enregistré")
    a11y.check(page, "Espace gestionnaire : remboursement enregistré")

    page.get_by_role("button", name="Se déconnecter").click()
    sign_in(page, "alfred.depot")
    page.goto(f"/demandes/{number}")
    expect(page.get_by_text(re.compile("Il vous a été remboursé le"))).to_be_visible()


def test_an_agent_unlocks_an_account(page: Page, console, a11y):
    with database.connection_context():
        for _ in range(MAX_FAILURES):
            LoginFailure.create(username="camille.martin", at=clock.now())
        camille = Account.get(Account.username == "camille.martin")
    agent_sign_in(page)
    page.get_by_label(SEARCH_LABEL).fill("camille.martin")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name="Camille MARTIN (camille.martin)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Compte de Camille MARTIN")
    expect(page.get_by_text("Verrouillé après des essais échoués")).to_be_visible()
    a11y.check(page, "Espace gestionnaire : compte verrouillé")
    page.get_by_role("link", name="Déverrouiller le compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Déverrouiller le compte de Camille MARTIN ?"
    )
    a11y.check(page, "Espace gestionnaire : déverrouiller, confirmation")
    page.get_by_role("button", name="Oui, déverrouiller").click()
    result_heading(page, "Compte de Camille MARTIN déverrouillé")
    a11y.check(page, "Espace gestionnaire : compte déverrouillé")
    with database.connection_context():
        assert not LoginFailure.select().where(LoginFailure.username == "camille.martin").exists()
    page.get_by_role("link", name="Revenir au compte de Camille MARTIN").click()
    expect(page).to_have_url(re.compile(f"/gestion/comptes/{camille.id}$"))


def test_a_supervisor_unlocks_an_agent_locked_out_from_elsewhere(page: Page, console, a11y):
    with database.connection_context():
        for _ in range(MAX_FAILURES):
            LoginFailure.create(username="agent:agent.demo", client="203.0.113.66", at=clock.now())
    agent_sign_in(page, "superviseur.demo")
    page.get_by_role("link", name="Agents").click()
    row = page.get_by_role("row").filter(has_text="agent.demo")
    expect(row).to_contain_text("bloqué après des essais de connexion échoués")
    a11y.check(page, "Espace gestionnaire : agents, un agent bloqué")
    page.get_by_role("link", name="Débloquer agent.demo").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Débloquer l'identifiant de l'agent agent.demo ?"
    )
    a11y.check(page, "Espace gestionnaire : débloquer un agent, confirmation")
    page.get_by_role("button", name="Oui, débloquer").click()
    result_heading(page, "Identifiant agent.demo débloqué")
    page.get_by_role("link", name="Revenir à la liste des agents").click()
    expect(page.get_by_role("link", name="Débloquer agent.demo")).to_have_count(0)
    with database.connection_context():
        assert not LoginFailure.select().where(LoginFailure.username == "agent:agent.demo").exists()


def test_an_email_change_sends_both_notices(page: Page, console, a11y):
    with database.connection_context():
        joseph = Account.get(Account.username == "joseph.quinn")
    agent_sign_in(page, "superviseur.demo")
    page.goto(f"/gestion/comptes/{joseph.id}")
    page.get_by_role("link", name="Changer l'adresse électronique").click()
    a11y.check(page, "Espace gestionnaire : adresse électronique")
    page.get_by_label("Nouvelle adresse électronique").fill("joseph.nouveau@example.net")
    page.get_by_role("button", name="Changer l'adresse").click()
    result_heading(page, "Adresse électronique changée")
    expect(page.get_by_role("main")).to_contain_text("Un avis est parti")
    notices = [e for e in console.outbox() if "a changé" in e.subject]
    assert sorted(e.recipient for e in notices) == [
        "joseph.nouveau@example.net",
        "joseph.quinn@example.org",
    ]


def test_a_supervisor_adds_an_agent_who_enrols(page: Page, console, a11y):
    from models.operator.agents import Agent

    agent_sign_in(page, "superviseur.demo")
    page.get_by_role("link", name="Agents").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agents")
    a11y.check(page, "Espace gestionnaire : agents")
    page.get_by_role("link", name="Ajouter un agent").click()
    page.get_by_role("button", name="Ajouter l'agent").click()
    expect(page.get_by_role("link", name=re.compile("Choisissez le rôle"))).to_be_visible()
    a11y.check(page, "Espace gestionnaire : ajouter un agent, erreurs")
    page.get_by_label("Identifiant").fill("lea.nouvel")
    page.get_by_label("Prénom et nom").fill("Léa NOUVEL")
    page.get_by_label("Adresse électronique professionnelle").fill("lea@example.net")
    page.get_by_label("Agent", exact=True).check()
    page.get_by_role("button", name="Ajouter l'agent").click()
    result_heading(page, "Agent Léa NOUVEL ajouté")
    expect(page.get_by_role("main")).to_contain_text("Le lien d'inscription est parti")

    link = re.search(r"https?://\S+(/gestion/inscription/\S+)", console.outbox()[-1].text).group(1)
    page.get_by_role("button", name="Se déconnecter").click()
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Espace gestionnaire : votre inscription"
    )
    expect(page.get_by_role("img", name=re.compile("Code QR"))).to_be_visible()
    a11y.check(page, "Espace gestionnaire : inscription")
    with database.connection_context():
        secret = Agent.get(Agent.username == "lea.nouvel").totp_secret
    page.get_by_label("Mot de passe", exact=True).fill("Nouvel-acces-2026")
    page.get_by_label("Confirmez le mot de passe").fill("Nouvel-acces-2026")
    page.get_by_label("Code affiché par votre application").fill(totp_now(secret))
    page.get_by_role("button", name="Terminer l'inscription").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Espace gestionnaire : connexion")
    expect(page.get_by_role("main").get_by_role("status")).to_contain_text("Votre accès est prêt")


def test_an_agent_sees_the_accounts_waiting_for_their_letter(page: Page, console, a11y):
    extract = (
        ";".join(cmi_import.COLUMNS)
        + "\n"
        + "".join(
            f"{n};physique;Lefèvre;Élodie;03/02/1980;e{n}@example.org;;;4 rue des Lilas;;59000;"
            f"LILLE;France;;;;;{n:016d};Invalidité;;01/01/2024;31/12/2033;;;0\n"
            for n in (801, 802)
        )
    )
    with database.connection_context():
        cmi_import.write(cmi_import.read(extract))
        letters.owe_first_letters("the-operators-own-secret-key")
    agent_sign_in(page)
    page.get_by_role("link", name="Chiffres").click()
    row = page.get_by_role("row", name=re.compile("Courriers de connexion à imprimer"))
    expect(row).to_contain_text("2")
    row.get_by_role("link", name="voir les comptes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Courriers de connexion à imprimer")
    expect(page).to_have_title("Courriers de connexion à imprimer - Espace gestionnaire - CMI")
    expect(page.get_by_role("link", name=re.compile(r"\(elodie\.lefevre\d?\)"))).to_have_count(2)
    a11y.check(page, "Espace gestionnaire : courriers de connexion à imprimer")
    page.get_by_role("link", name=re.compile(r"\(elodie\.lefevre\)")).click()
    expect(
        page.get_by_text(re.compile("courrier de connexion à imprimer depuis le"))
    ).to_be_visible()
    a11y.check(page, "Espace gestionnaire : compte sans courrier imprimé")


def test_a_new_letter_ends_on_its_result_with_the_pdf_as_a_link(page: Page, console, a11y):
    with database.connection_context():
        joseph = Account.get(Account.username == "joseph.quinn")
    agent_sign_in(page)
    page.goto(f"/gestion/comptes/{joseph.id}")
    page.get_by_role("link", name="Préparer un nouveau courrier de connexion").click()
    page.get_by_role("button", name="Oui, préparer le courrier").click()
    result_heading(page, f"Courrier prêt pour {joseph.display_name}")
    expect(page.get_by_role("main")).to_contain_text("le mot de passe ne servent plus")
    a11y.check(page, "Espace gestionnaire : courrier prêt")
    link = page.get_by_role("link", name=re.compile("Télécharger le courrier de connexion"))
    with page.expect_download() as download:
        link.click()
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    # Back to the confirmation and « Oui » again: the same result, no second letter.
    page.go_back()
    expect(page.get_by_text("Vous avez confirmé cette action à")).to_be_visible()
    page.get_by_role("button", name="Oui, préparer le courrier").click()
    result_heading(page, f"Courrier prêt pour {joseph.display_name}")
    with database.connection_context():
        by_agent = letters.CredentialsLetter.select().where(
            (letters.CredentialsLetter.account == joseph)
            & (letters.CredentialsLetter.reason == letters.BY_AGENT)
        )
        assert by_agent.count() == 1
