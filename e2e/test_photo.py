"""« Envoyer une photo »: the rules read before choosing, each refusal with its message
next to the field, then the photo shown back with its text alternative."""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import Page, expect

from models import photos

from .test_flows import expect_errors, heading, submit
from .test_foundation import sign_in

FIELD = "Fichier de la photo"


def image(size, kind="JPEG", noise=False) -> bytes:
    """A plain picture, or (``noise``) one as heavy as a phone's: a few hundred kB."""
    picture = Image.effect_noise(size, 40).convert("RGB") if noise else Image.new("RGB", size)
    out = io.BytesIO()
    picture.save(out, kind)
    return out.getvalue()


def choose(page: Page, name: str, data: bytes, mime: str = "image/jpeg") -> None:
    page.get_by_label(FIELD).set_input_files({"name": name, "mimeType": mime, "buffer": data})


def test_alfred_sends_his_photo_after_three_refusals(page: Page, a11y, variant):
    sign_in(page, "alfred.depot")
    sent: list[int] = []
    page.on("request", lambda r: sent.append(len(r.post_data_buffer or b"")))
    page.get_by_role("link", name="Envoyer une photo d'Alfred DEPOT").click()
    expect(heading(page, "Photo d'identité d'Alfred DEPOT")).to_be_visible()
    field = page.get_by_label(FIELD)
    expect(field).to_have_accessible_description("Format JPEG ou PNG, 5 Mo au plus.")
    expect(page.get_by_text("d'au moins 413 pixels de large et 531 pixels de haut")).to_be_visible()
    a11y.check(page, "Photo : à envoyer")

    # A PDF named like a photo: judged by its content.
    choose(page, "photo.jpg", b"%PDF-1.7\n1 0 obj << >> endobj\n")
    submit(page, "Envoyer la photo")
    expect_errors(page, "n'est pas une photo au format JPEG ou PNG")
    expect(page.get_by_label(FIELD)).to_have_attribute("aria-invalid", "true")
    a11y.check(page, "Photo : fichier refusé")

    choose(page, "petite.png", image((300, 400), "PNG"), "image/png")
    submit(page, "Envoyer la photo")
    expect_errors(page, "La photo mesure 300 × 400 pixels")

    # Over the limit: refused from its announced size, before it is read.
    choose(page, "lourde.jpg", image((600, 800)) + b"\0" * (photos.MAX_BYTES + 200_000))
    del sent[:]
    submit(page, "Envoyer la photo")
    expect_errors(page, "Le fichier choisi dépasse 5 Mo")
    if variant.javascript:
        # The page saw the size and did not send the file: a few hundred bytes went.
        assert max(sent) < 10_000, sent
    a11y.check(page, "Photo : fichier trop lourd")

    choose(page, "photo.jpg", image((600, 800), noise=True))
    submit(page, "Envoyer la photo")
    expect(page.locator("#photo-message")).to_contain_text("La photo est enregistrée")
    photo = page.get_by_role("img", name="Photo d'identité d'Alfred DEPOT")
    expect(photo).to_be_visible()
    # The picture itself is served to this signed-in browser, as the stored JPEG.
    served = page.request.get(photo.get_attribute("src"))
    assert served.ok and served.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(served.body())).size == (600, 800)
    expect(page.get_by_role("button", name="Remplacer la photo")).to_be_visible()
    a11y.check(page, "Photo : enregistrée")

    page.get_by_role("link", name="Revenir à « Mes données »").click()
    expect(page.get_by_text("elle sera imprimée sur la prochaine carte fabriquée")).to_be_visible()
