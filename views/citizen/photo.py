"""« Envoyer une photo »: the holder's photo for the next card made (see models.photos)."""

from __future__ import annotations

from flask import Blueprint, abort, g, make_response, redirect, request, url_for
from htmx_flask import make_response as htmx_response
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import FileField

from models import photos
from models.people import Beneficiary
from models.shared.clock import to_paris
from models.shared.i18n import _, lazy_gettext, of

from ..shared.forms import Form
from ..shared.render import (
    form_to_retry,
    login_required,
    render_page,
    retry_with,
    show_errors,
    this_address,
)
from ..shared.uploads import accepts_upload, discard_refused_body

bp = Blueprint("photo", __name__, url_prefix="/mes-donnees/photo")
# A « numéro identifiant » fits in a 64-bit integer; a longer one names nobody (404).
NUMBER_MAX = 2**63 - 1


# Sent by the page instead of a file it found too large to send (see site.js).
TOO_LARGE = "photo-trop-lourde"


class PhotoForm(Form):
    # The file itself is read from request.files by the view: the form holds its error.
    photo = FileField(lazy_gettext("Photo d'identité"))


def holder(number: int) -> Beneficiary:
    """A person the signed-in account acts for and who has a photo on their card."""
    person = g.account.beneficiaries().where(Beneficiary.number == number).first()
    if person is None or not person.is_natural_person:
        abort(404)
    return person


def show(person: Beneficiary, form: PhotoForm | None = None, status: int = 200, sent=False):
    form = form or PhotoForm(formdata=None)
    return render_page(
        "citizen/account/photo.html",
        status=status,
        # Formatted here: a name formatted into a template's _() would be escaped twice
        # by page_title.
        title=_("Photo %(name)s", name=of(person.display_name)),
        push_url=url_for("photo.upload", number=person.number, envoyee=1) if sent else None,
        nav="account",
        person=person,
        photo=photos.current_photo(person),
        sent=sent,
        form=form,
        rules={
            "max_size": photos.megabytes(photos.MAX_BYTES),
            "max_bytes": photos.MAX_BYTES,
            "min_width": photos.MIN_WIDTH,
            "min_height": photos.MIN_HEIGHT,
        },
    )


@bp.route(f"/<int(max={NUMBER_MAX}):number>", methods=["GET", "POST"])
@accepts_upload(photos.MAX_BYTES)
@login_required
def upload(number: int):
    person = holder(number)
    if request.method == "GET":
        sent = request.args.get("envoyee") == "1"
        return show(person, form_to_retry(PhotoForm), sent=sent)
    form = PhotoForm()
    if form.validate_on_submit():
        sent_file = request.files.get(form.photo.name)
        try:
            if request.form.get(TOO_LARGE) and not (sent_file and sent_file.filename):
                # The page saw the file was too large and did not send it.
                raise photos.PhotoRefused(photos.too_large_message())
            if sent_file is None or not sent_file.filename:
                raise photos.PhotoRefused(
                    _("Choisissez le fichier de votre photo, au format JPEG ou PNG")
                )
            retry_at = photos.admit_upload(g.account)
            if retry_at is not None:
                raise photos.PhotoRefused(
                    _(
                        "Vous avez envoyé %(count)s fichiers en une heure : c'est le plus "
                        "que le service accepte. Vous pourrez envoyer votre photo à partir "
                        "de %(time)s.",
                        count=photos.UPLOADS_PER_HOUR,
                        time=f"{to_paris(retry_at):%H:%M}",
                    )
                )
            cleaned = photos.clean(sent_file.stream.read(photos.MAX_BYTES + 1))
        except photos.PhotoRefused as refusal:
            form.photo.errors = [str(refusal)]
        else:
            photos.replace_photo(person, g.account, cleaned)
            if request.htmx:
                return show(person, sent=True)
            return redirect(url_for("photo.upload", number=person.number, envoyee=1), 303)
    return show_errors(form, lambda form, status: show(person, form, status))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error):
    """A file over the limit, refused before its body was read (the form's token and
    the signed-in account included): the page comes back with the message next to
    the field, by a redirect (htmx: a swap of <main>) that checks who asks."""
    discard_refused_body()
    answer = retry_with({"photo": [photos.too_large_message()]})
    if request.htmx:
        # htmx names the element that asked in HX-Target (here the body), not the
        # target it is given: the follow-up request says it swaps <main> itself.
        follow_up = {
            "path": this_address(query=False),
            "target": "#main",
            "headers": {"HX-Target": "main#main"},
        }
        return htmx_response("", 200, location=follow_up)
    return answer


@bp.route(f"/<int(max={NUMBER_MAX}):number>/photo.jpg")
@login_required
def image(number: int):
    person = holder(number)
    photo = photos.current_photo(person, with_data=True)
    if photo is None:
        abort(404)
    response = make_response(bytes(photo.data))
    response.headers["Content-Type"] = "image/jpeg"
    # A person's photo: never kept by a shared cache, nor by the browser.
    response.headers["Cache-Control"] = "private, no-store"
    return response
