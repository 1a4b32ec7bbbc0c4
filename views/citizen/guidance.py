"""« J'ai perdu ma carte »: one question per page, before signing in (see models.guidance)."""

from __future__ import annotations

from flask import Blueprint, request
from wtforms import Form, StringField

from models import guidance
from models.cards import OLD_CARDS_VALID_UNTIL, old_cards_days_left
from models.shared.clock import clock
from models.shared.i18n import _, long_date

from ..shared.easy_read import easy_read
from ..shared.render import render_page

bp = Blueprint("guidance", __name__)


def question_form(position: guidance.Position, easy: bool) -> Form:
    """The question as a form (no token: a GET that changes nothing), its error if any."""
    question = position.question

    class AnswerForm(Form):
        pass

    # The choices are the question's own (the walk checks the answer): the field only
    # carries the answer shown checked, and its error.
    setattr(AnswerForm, question.key, StringField(question.text(easy)))
    form = AnswerForm(data={question.key: position.selected})
    if position.missing:
        form[question.key].errors = [question.required(easy)]
    return form


@bp.route("/j-ai-perdu-ma-carte")
def lost_card():
    args = request.args
    position = guidance.walk(args, change=args.get("modifier"), sent=args.get("etape"))
    easy = easy_read()
    # Answers after the one being changed are kept: still on the path, they need not
    # be given again.
    kept = {
        key: value
        for key, value in args.items()
        if key in guidance.QUESTIONS
        and guidance.QUESTIONS[key].choice(value)
        and (position.question is None or key != position.question.key)
    }
    if position.question:
        heading = position.question.text(easy)
        form = question_form(position, easy)
        previous = position.answers[-1][0] if position.answers else None
    else:
        heading, form, previous = position.outcome.title(easy), None, None
    return render_page(
        "citizen/guidance/page.html",
        title=_("J'ai perdu ma carte"),
        heading=heading,
        choices=[(choice.value, choice.label(easy)) for choice in position.question.choices]
        if position.question
        else [],
        position=position,
        form=form,
        kept=kept,
        previous=previous,
        easy=easy,
        old_cards_until=OLD_CARDS_VALID_UNTIL,
        old_cards_days_left=old_cards_days_left(clock.today()),
        long_date=long_date,
        directory_url=guidance.PUBLIC_DIRECTORY_URL,
    )
