"""WTForms forms: what each form accepts and the French message for each mistake."""

from __future__ import annotations

from wtforms import BooleanField, PasswordField
from wtforms.validators import AnyOf, EqualTo, InputRequired, Length

from models.addresses import LABELS
from models.cards import DUPLICATE, SECOND_COPY
from models.citizen.auth import MIN_PASSWORD_LENGTH

from ..shared.forms import Form, HiddenTextField, TextField, email_validators

# Nobody's identifier is longer: a longer one is a mistake (or a probe).
IDENTIFIER_MAX = 100
TOO_LONG_IDENTIFIER = Length(
    max=IDENTIFIER_MAX,
    message=f"L'identifiant comporte au plus {IDENTIFIER_MAX} caractères : vérifiez-le sur "
    "le courrier de demande de photo",
)


class SignInForm(Form):
    username = TextField(
        "Identifiant",
        validators=[
            InputRequired("Saisissez votre identifiant, par exemple marie.dupont"),
            TOO_LONG_IDENTIFIER,
        ],
    )
    password = PasswordField(
        "Mot de passe",
        validators=[InputRequired("Saisissez votre mot de passe")],
    )


class ForgottenUsernameForm(Form):
    email = TextField(
        "Adresse électronique",
        validators=email_validators("Saisissez votre adresse électronique"),
    )


class ForgottenPasswordForm(Form):
    username = TextField(
        "Identifiant",
        validators=[
            InputRequired("Saisissez votre identifiant, par exemple marie.dupont"),
            TOO_LONG_IDENTIFIER,
        ],
    )


class NewPasswordForm(Form):
    password = PasswordField(
        "Nouveau mot de passe",
        validators=[
            InputRequired("Saisissez un nouveau mot de passe"),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} "
                "caractères, par exemple trois mots séparés par des tirets",
            ),
        ],
    )
    confirmation = PasswordField(
        "Confirmez le nouveau mot de passe",
        validators=[
            InputRequired("Saisissez à nouveau le mot de passe"),
            EqualTo("password", "Les deux mots de passe ne sont pas identiques"),
        ],
    )


class EngagementForm(Form):
    accept = BooleanField(
        "J'accepte les Conditions Générales d'Utilisation et de Délivrance",
        validators=[
            InputRequired(
                "Vous devez accepter les conditions générales d'utilisation et de délivrance : "
                "cochez la case pour continuer."
            )
        ],
    )


YES_NO = [("oui", "Oui"), ("non", "Non")]
KIND_CHOICES = [
    (DUPLICATE, "Duplicata"),
    (SECOND_COPY, "Second exemplaire"),
]


class ChoiceForm(Form):
    # Radios are rendered from KIND_CHOICES by the template; the field checks the value.
    kind = TextField(
        "Vous souhaitez effectuer une demande de",
        validators=[
            InputRequired("Choisissez le type de demande : duplicata ou second exemplaire"),
            AnyOf(
                [value for value, _ in KIND_CHOICES],
                "Choisissez le type de demande : duplicata ou second exemplaire",
            ),
        ],
    )


class DeliveryForm(Form):
    """« L'adresse de livraison est correcte » and, when it is not, the address itself.

    The address rules live in ``models.addresses``; this form only carries them.
    """

    correct = TextField(
        "L'adresse de livraison est correcte",
        validators=[
            InputRequired("Indiquez si l'adresse de livraison est correcte : oui ou non"),
            AnyOf(["oui", "non"], "Indiquez si l'adresse de livraison est correcte : oui ou non"),
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
    remember = BooleanField("Utiliser aussi cette adresse pour mes prochaines demandes")

    def address_fields(self):
        return [self[name] for name in LABELS]

    def address_data(self) -> dict[str, str]:
        return {name: self[name].data or "" for name in LABELS}
