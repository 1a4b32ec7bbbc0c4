"""WTForms forms: what each form accepts and the message for each mistake.

The labels and messages are lazy (translated when shown). WTForms formats a
``Length`` message with ``%`` and the keys min, max and length: those messages
name their numbers ``%(min)d`` or ``%(max)d`` (and a literal percent sign would be ``%%``).
"""

from __future__ import annotations

from wtforms import BooleanField, PasswordField
from wtforms.validators import AnyOf, EqualTo, InputRequired, Length

from models.addresses import LABELS
from models.cards import DUPLICATE, SECOND_COPY
from models.citizen.auth import MIN_PASSWORD_LENGTH
from models.shared.i18n import lazy_gettext

from ..shared.forms import EmailAddressField, Form, HiddenTextField, TextField

# Nobody's identifier is longer: a longer one is a mistake (or a probe).
IDENTIFIER_MAX = 100
TOO_LONG_IDENTIFIER = Length(
    max=IDENTIFIER_MAX,
    message=lazy_gettext(
        "L'identifiant comporte au plus %(max)d caractères : vérifiez-le sur "
        "le courrier de demande de photo"
    ),
)


class SignInForm(Form):
    username = TextField(
        lazy_gettext("Identifiant"),
        validators=[
            InputRequired(lazy_gettext("Saisissez votre identifiant, par exemple marie.dupont")),
            TOO_LONG_IDENTIFIER,
        ],
    )
    password = PasswordField(
        lazy_gettext("Mot de passe"),
        validators=[InputRequired(lazy_gettext("Saisissez votre mot de passe"))],
    )


class ForgottenUsernameForm(Form):
    email = EmailAddressField(
        lazy_gettext("Adresse électronique"), lazy_gettext("Saisissez votre adresse électronique")
    )


class ForgottenPasswordForm(Form):
    username = TextField(
        lazy_gettext("Identifiant"),
        validators=[
            InputRequired(lazy_gettext("Saisissez votre identifiant, par exemple marie.dupont")),
            TOO_LONG_IDENTIFIER,
        ],
    )


class NewPasswordForm(Form):
    password = PasswordField(
        lazy_gettext("Nouveau mot de passe"),
        validators=[
            InputRequired(lazy_gettext("Saisissez un nouveau mot de passe")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=lazy_gettext(
                    "Le mot de passe doit contenir au moins %(min)d caractères, par exemple "
                    "trois mots séparés par des tirets"
                ),
            ),
        ],
    )
    confirmation = PasswordField(
        lazy_gettext("Confirmez le nouveau mot de passe"),
        validators=[
            InputRequired(lazy_gettext("Saisissez à nouveau le mot de passe")),
            EqualTo("password", lazy_gettext("Les deux mots de passe ne sont pas identiques")),
        ],
    )


class EngagementForm(Form):
    accept = BooleanField(
        lazy_gettext("J'accepte les Conditions Générales d'Utilisation et de Délivrance"),
        validators=[
            InputRequired(
                lazy_gettext(
                    "Vous devez accepter les conditions générales d'utilisation et de "
                    "délivrance : cochez la case pour continuer."
                )
            )
        ],
    )


YES_NO = [("oui", lazy_gettext("Oui")), ("non", lazy_gettext("Non"))]
KIND_CHOICES = [
    (DUPLICATE, lazy_gettext("Duplicata")),
    (SECOND_COPY, lazy_gettext("Second exemplaire")),
]


class ChoiceForm(Form):
    # Radios are rendered from KIND_CHOICES by the template; the field checks the value.
    kind = TextField(
        lazy_gettext("Quelle demande voulez-vous faire ?"),
        validators=[
            InputRequired(
                lazy_gettext("Choisissez le type de demande : duplicata ou second exemplaire")
            ),
            AnyOf(
                [value for value, _ in KIND_CHOICES],
                lazy_gettext("Choisissez le type de demande : duplicata ou second exemplaire"),
            ),
        ],
    )


class DeliveryForm(Form):
    """« L'adresse de livraison est-elle correcte ? » and, when it is not, the address itself.

    The address rules live in ``models.addresses``; this form only carries them.
    """

    correct = TextField(
        lazy_gettext("L'adresse de livraison est-elle correcte ?"),
        validators=[
            InputRequired(
                lazy_gettext("Indiquez si l'adresse de livraison est correcte : oui ou non")
            ),
            AnyOf(
                ["oui", "non"],
                lazy_gettext("Indiquez si l'adresse de livraison est correcte : oui ou non"),
            ),
        ],
    )
    editing = HiddenTextField()
    name = TextField(LABELS["name"])
    apartment = TextField(LABELS["apartment"])
    building = TextField(LABELS["building"])
    street = TextField(LABELS["street"])
    locality = TextField(LABELS["locality"])
    postcode = TextField(LABELS["postcode"])
    city = TextField(LABELS["city"])
    country = TextField(LABELS["country"])
    remember = BooleanField(
        lazy_gettext("Utiliser aussi cette adresse pour mes prochaines demandes")
    )

    def address_fields(self):
        return [self[name] for name in LABELS]

    def address_data(self) -> dict[str, str]:
        return {name: self[name].data or "" for name in LABELS}
