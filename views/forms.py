"""WTForms forms: what each form accepts and the French message for each mistake."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import Email, EqualTo, InputRequired, Length

from models.auth import MIN_PASSWORD_LENGTH


class SignInForm(FlaskForm):
    username = StringField(
        "Identifiant",
        validators=[InputRequired("Saisissez votre identifiant, par exemple alfred.depot")],
    )
    password = PasswordField(
        "Mot de passe",
        validators=[InputRequired("Saisissez votre mot de passe")],
    )


class ForgottenUsernameForm(FlaskForm):
    email = StringField(
        "Adresse électronique",
        validators=[
            InputRequired("Saisissez votre adresse électronique"),
            Email(
                "Saisissez une adresse électronique valide, par exemple nom@exemple.fr",
                check_deliverability=False,
            ),
        ],
    )


class ForgottenPasswordForm(FlaskForm):
    username = StringField(
        "Identifiant",
        validators=[InputRequired("Saisissez votre identifiant, par exemple alfred.depot")],
    )


class NewPasswordForm(FlaskForm):
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
