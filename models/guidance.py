"""« J'ai perdu ma carte »: the questions that lead a citizen to their next step.

One question per page; each answer leads to another question or to an end
point (an outcome). The answers travel in the page's address (a GET form), so
the path works without JavaScript or a session, can be bookmarked, and any
earlier answer can be changed: the answers after it are then asked again.

Each text has its easy-to-read version beside it (« Facile à lire et à
comprendre »: short sentences, one idea each, common words), so that the two
change together. Both are marked for translation lazily: the registry is built
when the module loads, the words are picked in the reader's language when a
page asks for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel.speaklater import LazyString

from models.shared.i18n import lazy_gettext

# Where to find an MDPH, a town hall or a police station: the State's directory.
PUBLIC_DIRECTORY_URL = "https://lannuaire.service-public.fr/"


@dataclass(frozen=True)
class Words:
    """A text and its easy-to-read version, each translated when read."""

    standard: str | LazyString
    easy: str | LazyString

    def __call__(self, easy: bool) -> str:
        """The text to show, in the language of the page being rendered."""
        return str(self.easy if easy else self.standard)


@dataclass(frozen=True)
class Choice:
    value: str
    label: Words
    leads_to: str  # a question's key or an outcome's key
    hint: Words | None = None


@dataclass(frozen=True)
class Question:
    key: str
    text: Words  # the page's only question: its h1
    summary: Words  # the question in the list of answers given
    required: Words  # the error when nothing is chosen
    choices: tuple[Choice, ...]
    hint: Words | None = None

    def choice(self, value: str | None) -> Choice | None:
        return next((choice for choice in self.choices if choice.value == value), None)


@dataclass(frozen=True)
class Outcome:
    key: str
    title: Words  # the end page's h1


QUESTIONS: dict[str, Question] = {
    question.key: question
    for question in (
        Question(
            key="carte",
            text=Words(
                lazy_gettext("Quelle carte avez-vous perdue, ou vous a-t-on volée ?"),
                lazy_gettext("Quelle carte avez-vous perdue ?"),
            ),
            hint=Words(
                lazy_gettext("Répondez de la même façon si la carte est détruite ou abîmée."),
                lazy_gettext("Votre carte est volée ou abîmée ? Répondez aussi à cette question."),
            ),
            summary=Words(lazy_gettext("Carte"), lazy_gettext("Votre carte")),
            required=Words(
                lazy_gettext("Choisissez la carte que vous avez perdue, ou « Je ne sais pas »"),
                lazy_gettext("Choisissez une réponse."),
            ),
            choices=(
                Choice(
                    "cmi",
                    Words(
                        lazy_gettext("Une carte mobilité inclusion (CMI)"),
                        lazy_gettext("Une carte mobilité inclusion"),
                    ),
                    "evenement",
                    Words(
                        lazy_gettext(
                            "Une carte en plastique au format d'une carte bancaire, avec votre "
                            "photo, les mots « Carte mobilité inclusion » et la mention "
                            "« invalidité », « priorité » ou « stationnement »."
                        ),
                        lazy_gettext(
                            "C'est une carte en plastique. Elle a la taille d'une carte bancaire. "
                            "Elle a votre photo. Elle porte un de ces mots : invalidité, priorité "
                            "ou stationnement."
                        ),
                    ),
                ),
                Choice(
                    "ancienne",
                    Words(
                        lazy_gettext(
                            "Une carte de l'ancien format : carte d'invalidité orange, carte de "
                            "priorité mauve ou carte européenne de stationnement bleue"
                        ),
                        lazy_gettext("Une ancienne carte orange, mauve ou bleue"),
                    ),
                    "ancien-format",
                    Words(
                        lazy_gettext("Ces cartes ont été délivrées avant 2017."),
                        lazy_gettext("Ces cartes ont été faites avant l'année 2017."),
                    ),
                ),
                Choice(
                    "identite",
                    Words(
                        lazy_gettext("Une carte nationale d'identité ou un passeport"),
                        lazy_gettext("Une carte d'identité ou un passeport"),
                    ),
                    "identite",
                ),
                Choice(
                    "inconnue",
                    Words(lazy_gettext("Je ne sais pas"), lazy_gettext("Je ne sais pas")),
                    "carte-inconnue",
                ),
            ),
        ),
        Question(
            key="evenement",
            text=Words(lazy_gettext("Que s'est-il passé ?"), lazy_gettext("Que s'est-il passé ?")),
            summary=Words(lazy_gettext("Ce qui s'est passé"), lazy_gettext("Ce qui s'est passé")),
            required=Words(
                lazy_gettext("Choisissez ce qui est arrivé à votre carte mobilité inclusion"),
                lazy_gettext("Choisissez une réponse."),
            ),
            choices=(
                Choice(
                    "perdue",
                    Words(lazy_gettext("Je l'ai perdue"), lazy_gettext("J'ai perdu ma carte")),
                    "codes",
                ),
                Choice(
                    "volee",
                    Words(lazy_gettext("On me l'a volée"), lazy_gettext("On m'a volé ma carte")),
                    "codes",
                ),
                Choice(
                    "abimee",
                    Words(
                        lazy_gettext("Elle est détruite ou abîmée"),
                        lazy_gettext("Ma carte est cassée ou abîmée"),
                    ),
                    "codes",
                ),
                Choice(
                    "retrouvee",
                    Words(
                        lazy_gettext("Je l'ai retrouvée après avoir demandé un duplicata"),
                        lazy_gettext(
                            "J'ai retrouvé ma carte. Mais j'ai déjà demandé une nouvelle carte."
                        ),
                    ),
                    "retrouvee",
                ),
            ),
        ),
        Question(
            key="codes",
            text=Words(
                lazy_gettext("Avez-vous votre identifiant et votre mot de passe ?"),
                lazy_gettext("Avez-vous votre identifiant et votre mot de passe ?"),
            ),
            hint=Words(
                lazy_gettext(
                    "Ils servent à vous connecter à ce service. L'identifiant et un code "
                    "d'activation (à saisir à la place du mot de passe lors de la première "
                    "connexion) figurent sur le courrier de demande de photo reçu quand la "
                    "carte vous a été accordée."
                ),
                lazy_gettext(
                    "Vous avez reçu une lettre avant votre carte. Cette lettre demande votre "
                    "photo. Votre identifiant est sur cette lettre. Il y a aussi un code. La "
                    "première fois, vous écrivez ce code à la place du mot de passe."
                ),
            ),
            summary=Words(
                lazy_gettext("Identifiant et mot de passe"),
                lazy_gettext("Identifiant et mot de passe"),
            ),
            required=Words(
                lazy_gettext("Dites si vous avez votre identifiant et votre mot de passe"),
                lazy_gettext("Choisissez une réponse."),
            ),
            choices=(
                Choice(
                    "oui",
                    Words(lazy_gettext("Oui, je les ai"), lazy_gettext("Oui, je les ai")),
                    "duplicata",
                ),
                Choice(
                    "courriel",
                    Words(
                        lazy_gettext(
                            "Non, mais je reçois toujours les courriels à l'adresse électronique "
                            "donnée au service"
                        ),
                        lazy_gettext(
                            "Non. Mais je lis toujours les courriels de l'adresse que j'ai "
                            "donnée à ce site."
                        ),
                    ),
                    "par-courriel",
                ),
                Choice(
                    "sans-courriel",
                    Words(
                        lazy_gettext(
                            "Non, et je n'ai plus accès à cette adresse électronique, ou je n'en "
                            "ai jamais donné"
                        ),
                        lazy_gettext(
                            "Non. Et je ne peux plus lire mes courriels à l'adresse donnée à ce "
                            "site. Ou je n'ai jamais donné d'adresse."
                        ),
                    ),
                    "sans-courriel",
                ),
                Choice(
                    "jamais",
                    Words(
                        lazy_gettext("Je n'ai jamais reçu d'identifiant"),
                        lazy_gettext("Je n'ai jamais reçu d'identifiant."),
                    ),
                    "sans-compte",
                ),
            ),
        ),
    )
}
FIRST_QUESTION = "carte"

OUTCOMES: dict[str, Outcome] = {
    outcome.key: outcome
    for outcome in (
        Outcome(
            "duplicata",
            Words(
                lazy_gettext("Vous pouvez commander un duplicata en ligne"),
                lazy_gettext("Vous pouvez demander une nouvelle carte sur ce site"),
            ),
        ),
        Outcome(
            "par-courriel",
            Words(
                lazy_gettext(
                    "Recevez votre identifiant par courriel, puis choisissez un nouveau mot "
                    "de passe"
                ),
                lazy_gettext(
                    "Recevez votre identifiant par courriel. Puis choisissez un mot de passe."
                ),
            ),
        ),
        Outcome(
            "sans-courriel",
            Words(
                lazy_gettext("Faites enregistrer une nouvelle adresse électronique"),
                lazy_gettext("Donnez-nous votre nouvelle adresse de courriel"),
            ),
        ),
        Outcome(
            "sans-compte",
            Words(
                lazy_gettext("Demandez vos codes d'accès"),
                lazy_gettext("Demandez votre identifiant"),
            ),
        ),
        Outcome(
            "retrouvee",
            Words(
                lazy_gettext("La carte retrouvée reste révoquée"),
                lazy_gettext("Vous ne pouvez plus utiliser la carte retrouvée"),
            ),
        ),
        Outcome(
            "ancien-format",
            Words(
                lazy_gettext(
                    "Demandez une carte mobilité inclusion à votre maison départementale des "
                    "personnes handicapées"
                ),
                lazy_gettext(
                    "Demandez une carte mobilité inclusion à votre maison départementale des "
                    "personnes handicapées"
                ),
            ),
        ),
        Outcome(
            "identite",
            Words(
                lazy_gettext("Une carte d'identité ou un passeport se demande en mairie"),
                lazy_gettext("Pour une carte d'identité ou un passeport, allez à la mairie"),
            ),
        ),
        Outcome(
            "carte-inconnue",
            Words(
                lazy_gettext("Reconnaître votre carte"),
                lazy_gettext("Comment reconnaître votre carte"),
            ),
        ),
    )
}


@dataclass
class Position:
    """Where a citizen stands: the answers on their path, then a question or an outcome."""

    answers: list[tuple[Question, Choice]] = field(default_factory=list)
    question: Question | None = None
    outcome: Outcome | None = None
    selected: str | None = None  # the answer shown checked (when changing it)
    missing: bool = False  # the question was sent back without an answer

    def answer(self, key: str) -> str | None:
        return next(
            (choice.value for question, choice in self.answers if question.key == key), None
        )

    def query(self, until: str | None = None) -> dict[str, str]:
        """The answers as query parameters, those before question ``until`` only."""
        kept = {}
        for question, choice in self.answers:
            if question.key == until:
                break
            kept[question.key] = choice.value
        return kept


def walk(args: Mapping[str, str], change: str | None = None, sent: str | None = None) -> Position:
    """Follow the answers in ``args`` from the first question.

    ``change``: the question whose answer the citizen wants to change (shown
    again, its answer checked); ``sent``: the question whose form was just sent
    (an answer missing there is an error). Answers off the path are ignored.
    """
    position = Position()
    key = FIRST_QUESTION
    while key in QUESTIONS:
        question = QUESTIONS[key]
        choice = question.choice(args.get(key))
        if choice is None or key == change:
            position.question = question
            position.selected = choice.value if choice else None
            position.missing = choice is None and sent == key
            return position
        position.answers.append((question, choice))
        key = choice.leads_to
    position.outcome = OUTCOMES[key]
    return position
