"""« Téléverser une photo »: checked by content, cleaned of metadata, shown only to its
owner, replaceable, and named in the next batch sent to the card factory."""

from __future__ import annotations

import io
import json
import re
import threading
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from models import Account, Beneficiary, Photo, factory, photos
from models.requests import RequestLine
from models.shared.db import database
from views.shared import uploads

from .helpers import assert_shown_again_with_errors, csrf_token, follow_retry, sign_in
from .test_factory import run
from .test_payments import pay_through_the_app

ALFRED = "/mes-donnees/photo/1"
HTMX = {"HX-Request": "true", "HX-Target": "main#main", "HX-Source": "form"}


def jpeg(size=(600, 800), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "#7a9cc6").save(out, "JPEG", **save)
    return out.getvalue()


def jpeg_with_metadata(size=(600, 800), orientation: int | None = None) -> bytes:
    """A phone's photo: where it was taken, with what, a comment and a colour profile."""
    exif = Image.Exif()
    exif[0x010F] = "SecretCamMaker"  # Make
    exif[0x0110] = "SecretCamModel"  # Model
    if orientation:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 51.0, 24.0)  # latitude
    gps[3], gps[4] = "E", (2.0, 21.0, 7.0)  # longitude
    return jpeg(size, exif=exif, comment=b"SecretComment", icc_profile=b"SecretProfile" * 10)


def noisy_jpeg(size=(600, 800)) -> bytes:
    out = io.BytesIO()
    Image.effect_noise(size, 64).convert("RGB").save(out, "JPEG")
    return out.getvalue()


def png(size, mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


BOUNDARY = "----limite-de-la-photo"


def multipart(token: str, data: bytes | None, name: str, mimetype: str) -> bytes:
    """A browser's multipart body (built here: the test client would spool a large one
    to a temporary file it never closes)."""
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
    ).encode()
    if data is not None:
        body += (
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="photo"; '
                f'filename="{name}"\r\nContent-Type: {mimetype}\r\n\r\n'
            ).encode()
            + data
            + b"\r\n"
        )
    return body + f"--{BOUNDARY}--\r\n".encode()


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def send(client, data: bytes | None, name="photo.jpg", mimetype="image/jpeg", url=ALFRED,
         **kwargs):  # fmt: skip
    token = csrf_token(client.get(url).text)
    body = multipart(token, data, name, mimetype)
    response = client.post(url, data=body, content_type=MULTIPART, **kwargs)
    accepted = response.headers.get("Location", "").endswith("?envoyee=1")
    return response if kwargs.get("headers") or accepted else follow_retry(client, response)


def error_of(page) -> str:
    found = re.search(r'<p class="error-message" id="photo-error">.*?</span>(.*?)</p>', page.text)
    assert found, "no error next to the field"
    return found.group(1).replace("&#39;", "'")


def stored() -> list[Photo]:
    with database.connection_context():
        return list(Photo.select().order_by(Photo.id))


# -- accepted ---------------------------------------------------------------------------------


def test_a_photo_is_kept_without_any_of_its_metadata_and_shown_back_to_its_owner(client):
    sign_in(client, "alfred.depot")
    original = jpeg_with_metadata()
    assert b"SecretCamMaker" in original and b"SecretComment" in original
    response = send(client, original, name="IMG_2026.JPG")
    assert response.status_code == 303 and response.headers["Location"] == ALFRED + "?envoyee=1"
    page = client.get(response.headers["Location"])
    assert "La photo est enregistrée" in page.text
    assert re.search(r'<img [^>]*alt="Photo d.identité d&#39;Alfred DEPOT"', page.text)

    [photo] = stored()
    kept = bytes(photo.data)
    for secret in (b"SecretCam", b"SecretComment", b"SecretProfile", b"Exif", b"ICC_PROFILE"):
        assert secret not in kept, secret
    read_back = Image.open(io.BytesIO(kept))
    assert read_back.format == "JPEG"
    assert not read_back.getexif() and "exif" not in read_back.info
    assert "icc_profile" not in read_back.info and "comment" not in read_back.info
    assert (photo.width, photo.height) == read_back.size == (600, 800)

    served = client.get(ALFRED + "/photo.jpg")
    assert served.status_code == 200 and served.data == kept
    assert served.headers["Content-Type"] == "image/jpeg"
    assert "no-store" in served.headers["Cache-Control"]
    assert "Photo envoyée le 22/11/2026" in client.get("/mes-donnees").text


def test_a_photo_of_a_few_hundred_kilobytes_goes_through_the_small_limit_of_other_forms(
    client,
):
    sign_in(client, "alfred.depot")
    data = noisy_jpeg()
    assert len(data) > 3 * 64 * 1024  # over MAX_CONTENT_LENGTH, the other forms' limit
    assert send(client, data).status_code == 303
    assert len(stored()) == 1


def test_a_photo_turned_by_its_exif_is_stored_upright_and_a_large_one_smaller(client):
    sign_in(client, "alfred.depot")
    # Taken sideways: 1600 × 1200 pixels, to be turned a quarter (EXIF orientation 6).
    assert send(client, jpeg_with_metadata((1600, 1200), orientation=6)).status_code == 303
    [photo] = stored()
    assert photo.height > photo.width
    assert photo.width <= photos.STORED_MAX[0] and photo.height <= photos.STORED_MAX[1]


def test_a_transparent_png_is_accepted_on_a_white_background(client):
    sign_in(client, "alfred.depot")
    assert send(client, png((500, 600), "RGBA"), "photo.png", "image/png").status_code == 303
    [photo] = stored()
    assert Image.open(io.BytesIO(bytes(photo.data))).getpixel((0, 0)) == (255, 255, 255)


def test_a_new_photo_replaces_the_last_one(client):
    sign_in(client, "alfred.depot")
    send(client, jpeg())
    send(client, jpeg((700, 900)))
    [photo] = stored()  # the first one, never sent to the factory, is gone
    assert (photo.width, photo.height) == (700, 900)
    assert "Remplacer la photo" in client.get(ALFRED).text


def test_with_htmx_the_page_comes_back_at_once_with_its_notice(client):
    sign_in(client, "alfred.depot")
    response = send(client, jpeg(), headers=HTMX)
    assert response.status_code == 200 and "La photo est enregistrée" in response.text
    assert response.headers["HX-Push-Url"] == ALFRED + "?envoyee=1"


# -- refused, each with its message next to the field, without and with htmx -----------------

REFUSED = [
    pytest.param(
        b"%PDF-1.7\n1 0 obj << >> endobj\n",
        "photo.jpg",
        "n'est pas une photo au format JPEG ou PNG",
        id="a PDF named .jpg",
    ),
    pytest.param(
        b"GIF89a" + b"\x00" * 64, "photo.png", "n'est pas une photo au format JPEG ou PNG", id="gif"
    ),
    pytest.param(
        b"<script>alert(1)</script>",
        "photo.jpg",
        "n'est pas une photo au format JPEG ou PNG",
        id="a script named .jpg",
    ),
    pytest.param(png((300, 400)), "photo.png", "La photo mesure 300 × 400 pixels", id="too small"),
    pytest.param(
        jpeg((800, 500)), "photo.jpg", "La photo mesure 800 × 500 pixels", id="not high enough"
    ),
    pytest.param(
        png((8000, 8000), "1"), "photo.png", "trop grande en pixels", id="too many pixels"
    ),
    pytest.param(noisy_jpeg()[:20_000], "photo.jpg", "abîmé ou incomplet", id="a truncated JPEG"),
    pytest.param(b"", "photo.jpg", "Le fichier choisi est vide", id="an empty file"),
    pytest.param(None, "", "Choisissez le fichier de votre photo", id="no file chosen"),
]


@pytest.mark.parametrize(("data", "name", "message"), REFUSED)
def test_a_file_that_is_not_a_usable_photo_is_refused_with_its_reason(client, data, name, message):
    sign_in(client, "alfred.depot")
    page = send(client, data, name=name, mimetype="image/jpeg")
    assert_shown_again_with_errors(page)
    assert message in error_of(page)
    assert 'aria-invalid="true"' in page.text and 'href="#photo"' in page.text
    answered = send(client, data, name=name, headers=HTMX)
    assert answered.status_code == 422 and message in error_of(answered)
    assert stored() == []


class CountingStream(io.BytesIO):
    """A request body that records how it is read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.read_bytes = 0
        self.largest_read = 0

    def read(self, size=-1):
        data = super().read(size)
        self.read_bytes += len(data)
        self.largest_read = max(self.largest_read, len(data))
        return data


def test_an_oversized_upload_is_refused_from_its_size_and_never_parsed(client):
    sign_in(client, "alfred.depot")
    token = csrf_token(client.get(ALFRED).text)
    envelope = multipart(token, jpeg() + b"\0" * (photos.MAX_BYTES + 100 * 1024), "a.jpg", "x")
    stream = CountingStream(envelope)
    response = client.post(
        ALFRED,
        input_stream=stream,
        content_type=MULTIPART,
        content_length=len(envelope),
    )
    # Refused on its announced size: the rest of the body was read only to be thrown
    # away, a chunk at a time (so that a browser reads the answer), never parsed whole.
    assert stream.largest_read <= uploads.CHUNK
    page = follow_retry(client, response)
    assert_shown_again_with_errors(page)
    assert error_of(page).startswith("Le fichier choisi dépasse 5 Mo")
    # With htmx: the same page, swapped into <main> by a client-side redirect.
    answered = client.post(ALFRED, data=envelope, content_type=MULTIPART, headers=HTMX)
    assert answered.status_code == 200
    assert json.loads(answered.headers["HX-Location"]) == {
        "path": ALFRED,
        "target": "#main",
        # htmx would otherwise send the body as the target: a whole page in <main>.
        "headers": {"HX-Target": "main#main"},
    }
    assert "dépasse 5 Mo" in error_of(client.get(ALFRED, headers=HTMX))
    assert stored() == []


def test_a_body_announced_beyond_what_is_worth_reading_is_not_read_at_all(client):
    sign_in(client, "alfred.depot")
    stream = CountingStream(b"\0" * 1024)
    response = client.post(
        ALFRED,
        input_stream=stream,
        content_type=MULTIPART,
        environ_overrides={"CONTENT_LENGTH": str(uploads.DISCARD_MAX + 1)},
    )
    assert stream.read_bytes == 0
    assert response.status_code == 303


def test_with_javascript_a_file_found_too_large_is_not_sent_and_gets_the_same_message(client):
    sign_in(client, "alfred.depot")
    token = csrf_token(client.get(ALFRED).text)
    response = client.post(
        ALFRED, data={"csrf_token": token, "photo-trop-lourde": "7340032"}, headers=HTMX
    )
    assert response.status_code == 422
    assert error_of(response).startswith("Le fichier choisi dépasse 5 Mo")


def test_a_file_just_over_the_limit_but_within_the_envelope_is_refused_too(client):
    sign_in(client, "alfred.depot")
    page = send(client, jpeg() + b"\x00" * photos.MAX_BYTES)
    assert_shown_again_with_errors(page)
    assert error_of(page).startswith("Le fichier choisi dépasse 5 Mo")


def test_other_forms_still_refuse_a_large_body(client):
    """The larger limit is the photo route's own."""
    response = client.post("/connexion", data={"username": "x" * (80 * 1024)})
    assert response.status_code == 413


# -- whose photo ------------------------------------------------------------------------------


def test_a_photo_is_shown_and_changed_only_by_the_accounts_acting_for_its_holder(client):
    sign_in(client, "alfred.depot")
    send(client, jpeg())
    client.post("/deconnexion", data={"csrf_token": csrf_token(client.get("/mes-donnees").text)})
    sign_in(client, "joseph.quinn")
    assert client.get(ALFRED).status_code == 404
    assert client.get(ALFRED + "/photo.jpg").status_code == 404
    # A legal person's card has no photo.
    with database.connection_context():
        navette = Account.get(Account.username == "navette.pmr").beneficiaries().get()
    client.post("/deconnexion", data={"csrf_token": csrf_token(client.get("/mes-donnees").text)})
    sign_in(client, "navette.pmr")
    assert client.get(f"/mes-donnees/photo/{navette.number}").status_code == 404
    assert "Téléverser une photo" not in client.get("/mes-donnees").text


def test_signed_out_the_photo_page_asks_to_sign_in(client):
    response = client.get(ALFRED + "/photo.jpg")
    assert response.status_code == 303 and "/connexion" in response.headers["Location"]


def test_a_representative_sends_each_childs_photo_from_their_own_page(client):
    sign_in(client, "camille.martin")
    links = re.findall(r'href="(/mes-donnees/photo/\d+)"', client.get("/mes-donnees").text)
    assert len(links) == 2
    send(client, jpeg(), url=links[1])
    [photo] = stored()
    with database.connection_context():
        assert Beneficiary.get_by_id(photo.beneficiary_id).number == int(links[1].split("/")[-1])
    assert "Envoyer la photo" in client.get(links[0]).text
    assert "Remplacer la photo" in client.get(links[1]).text


# -- to the card factory ----------------------------------------------------------------------


def test_the_next_batch_names_the_photo_and_the_export_writes_it(app, client, tmp_path, capsys):
    sign_in(client, "alfred.depot")
    send(client, jpeg_with_metadata())
    with database.connection_context():
        pay_through_the_app(client)
    out = tmp_path / "out"
    assert run(app, "export", "--folder", str(out)) == 0
    assert "with 1 photo(s)" in capsys.readouterr().out
    [batch] = out.glob("*.jsonl")
    [record] = [json.loads(line) for line in batch.read_text().splitlines()]
    [photo] = stored()
    assert record["photo"] == f"{photo.sha256}.jpg"
    written = out / f"{batch.stem}-photos" / record["photo"]
    assert written.read_bytes() == bytes(photo.data)

    # Replaced afterwards: the batch's photo stays, so the batch can be written again.
    send(client, jpeg((700, 900)))
    first, current = stored()
    assert first.replaced_at is not None and current.replaced_at is None
    again = tmp_path / "again"
    assert run(app, "export", "--folder", str(again), "--batch", batch.stem) == 0
    assert (again / batch.name).read_bytes() == batch.read_bytes()
    assert (again / f"{batch.stem}-photos" / record["photo"]).read_bytes() == bytes(first.data)
    with database.connection_context():
        assert RequestLine.select().where(RequestLine.photo == first.sha256).count() == 1


def test_a_card_without_a_photo_sent_here_carries_no_photo_key(app, client, tmp_path):
    """A batch made before photos existed keeps its bytes: the key is there only when
    a photo was sent."""
    sign_in(client, "alfred.depot")
    with database.connection_context():
        pay_through_the_app(client)
    out = tmp_path / "out"
    assert run(app, "export", "--folder", str(out)) == 0
    [batch] = out.glob("*.jsonl")
    assert "photo" not in json.loads(batch.read_text().splitlines()[0])
    assert not (out / f"{batch.stem}-photos").exists()


def test_a_photo_replaced_while_a_batch_names_it_is_kept_for_that_batch(app, client, tmp_path):
    """The batch's transaction names the photo; a replacement at that moment must see
    it named (it waits for the batch), or the batch could never be written."""
    sign_in(client, "alfred.depot")
    send(client, jpeg())
    with database.connection_context():
        pay_through_the_app(client)
        holder = Beneficiary.get(Beneficiary.number == 1)
    named, release = threading.Event(), threading.Event()
    original = factory.batch_records

    def paused(name):  # inside new_batch's transaction, after the photos are named
        named.set()
        release.wait(10)
        return original(name)

    def make_batch():
        with database.connection_context():
            factory.new_batch()

    def replace():
        with database.connection_context():
            photos.replace_photo(holder, None, photos.clean(jpeg((700, 900))))

    factory.batch_records = paused
    try:
        batching = threading.Thread(target=make_batch)
        batching.start()
        assert named.wait(10)
        replacing = threading.Thread(target=replace)
        replacing.start()
        replacing.join(1.0)  # it waits for the batch (it would be done by now otherwise)
        waited = replacing.is_alive()
        release.set()
        batching.join(10)
        replacing.join(10)
    finally:
        factory.batch_records = original
        release.set()
    assert waited
    first, current = stored()
    assert first.replaced_at is not None and current.replaced_at is None
    with database.connection_context():
        batch = RequestLine.select(RequestLine.batch).where(RequestLine.photo == first.sha256)
        name = batch.scalar()
    assert run(app, "export", "--folder", str(tmp_path), "--batch", name) == 0


def test_two_photos_sent_at_once_leave_one_current_photo(app, client):
    with database.connection_context():
        holder = Beneficiary.get(Beneficiary.number == 1)
    cleaned = [photos.clean(jpeg((600 + 10 * n, 800))) for n in range(4)]

    def replace(photo):
        with database.connection_context():
            photos.replace_photo(holder, None, photo)

    threads = [threading.Thread(target=replace, args=(photo,)) for photo in cleaned]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert [photo.replaced_at for photo in stored()] == [None]


def test_a_large_png_is_refused_before_decoding_a_large_jpeg_is_decoded_small(client):
    sign_in(client, "alfred.depot")
    page = send(client, png((4100, 4100), "1"), "photo.png", "image/png")
    assert "trop grande en pixels" in error_of(page)
    # A phone's 48-megapixel photo goes through, decoded at a fraction of its size.
    assert send(client, jpeg((8000, 6000))).status_code == 303
    [photo] = stored()
    assert max(photo.width, photo.height) <= max(photos.STORED_MAX)


def test_a_jpeg_that_carries_a_second_picture_is_a_jpeg(client):
    """MPO: what some cameras and phones write (a JPEG with a second image after it)."""
    sign_in(client, "alfred.depot")
    out = io.BytesIO()
    first, second = Image.new("RGB", (600, 800), "#345"), Image.new("RGB", (600, 800))
    first.save(out, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    assert send(client, out.getvalue()).status_code == 303


def test_a_colour_profile_is_applied_then_dropped_and_a_broken_one_ignored(client):
    sign_in(client, "alfred.depot")
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for profile in (srgb, b"not a profile at all"):
        out = io.BytesIO()
        Image.new("RGB", (600, 800), (200, 40, 40)).save(out, "JPEG", icc_profile=profile)
        assert send(client, out.getvalue()).status_code == 303
        [photo] = stored()
        kept = Image.open(io.BytesIO(bytes(photo.data)))
        assert "icc_profile" not in kept.info
        red, green, blue = kept.getpixel((300, 400))
        assert abs(red - 200) < 6 and abs(green - 40) < 6 and abs(blue - 40) < 6


@pytest.mark.parametrize(
    "address",
    [
        "/mes-donnees/photo/99999999999999999999",
        "/mes-donnees/photo/99999999999999999999/photo.jpg",
    ],
)
def test_a_number_longer_than_any_is_not_found(client, address):
    sign_in(client, "alfred.depot")
    assert client.get(address).status_code == 404


def test_a_truncated_photo_stays_refused_once_the_pdf_printer_is_loaded():
    """WeasyPrint tells Pillow, process-wide, to accept truncated images."""
    import weasyprint  # noqa: F401
    from PIL import ImageFile

    import models.shared.pdf  # noqa: F401

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    ImageFile.LOAD_TRUNCATED_IMAGES = True  # as any other library might leave it
    try:
        with pytest.raises(photos.PhotoRefused, match="abîmé ou incomplet"):
            photos.clean(noisy_jpeg()[:20_000])
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


# -- what a photo may cost the server ---------------------------------------------------------


def png_of_depth(width: int, height: int, depth: int) -> bytes:
    """An RGB PNG of 8 or 16 bits a sample (Pillow writes no 16-bit RGB), mostly black,
    so that it weighs a few kB on disk whatever its size once decoded."""
    import struct
    import zlib

    row = b"\0" + bytes(width * 3 * depth // 8)
    packer = zlib.compressobj(9)
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, depth, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture
def decodes(monkeypatch):
    """How many pictures were decoded (their pixels read)."""
    from PIL import ImageFile

    count = []
    load = ImageFile.ImageFile.load

    def counted(self):
        if self.tile:  # pixels still to decode (once decoded, load() does nothing)
            count.append(self.size)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counted)
    return count


def test_a_png_s_bit_depth_counts_and_a_heavy_one_is_refused_before_any_pixel_is_read(
    client, decodes
):
    """9 megapixels: within the pixels allowed, and 36 MB once decoded in 8 bits, but
    twice that in 16 bits (the file itself weighs a few kB)."""
    sign_in(client, "alfred.depot")
    heavy = png_of_depth(3000, 3000, 16)
    assert len(heavy) < 200_000
    page = send(client, heavy, "photo.png", "image/png")
    assert "trop lourde à ouvrir" in error_of(page)
    assert "par exemple 2000 pixels de haut" in error_of(page)
    assert decodes == []
    assert stored() == []
    assert send(client, png_of_depth(3000, 3000, 8), "photo.png", "image/png").status_code == 303
    assert decodes == [(3000, 3000)]  # a PNG decodes whole


def test_a_progressive_jpeg_counts_every_coefficient_of_the_picture(client, decodes):
    """A progressive JPEG keeps all its coefficients while it decodes, whatever the scale it
    is decoded at: 9 megapixels in full colour (4:4:4) take 54 MB; subsampled (4:2:0),
    half; sent in one pass (baseline), a few."""
    sign_in(client, "alfred.depot")
    picture = Image.new("RGB", (3000, 3000), "#7a9cc6")

    def saved(**options) -> bytes:
        out = io.BytesIO()
        picture.save(out, "JPEG", **options)
        return out.getvalue()

    page = send(client, saved(progressive=True, subsampling=0))
    assert "trop lourde à ouvrir" in error_of(page)
    assert decodes == []
    assert send(client, saved(progressive=True, subsampling=2)).status_code == 303
    assert send(client, saved(subsampling=0)).status_code == 303
    assert decodes == [(1500, 1500)] * 2  # decoded at half its size


def test_the_decoded_bytes_are_read_from_the_header(tmp_path):
    def cost(data: bytes) -> int:
        image = Image.open(io.BytesIO(data))
        return photos.decoded_bytes(image, image.size, data)

    assert cost(png_of_depth(1000, 1000, 16)) == 6_000_000  # 3 samples of 2 bytes
    assert cost(png_of_depth(1000, 1000, 8)) == 4_000_000  # Pillow's 4 bytes a pixel
    assert cost(png((1000, 1000), "L")) == 1_000_000
    out = io.BytesIO()
    Image.new("RGB", (1000, 1000)).save(out, "JPEG", progressive=True, subsampling=2)
    assert cost(out.getvalue()) == 3_000_000  # 1 + 1/4 + 1/4 samples, 2 bytes each


def test_each_account_sends_a_few_files_an_hour_and_is_told_when_it_may_again(client, frozen_clock):
    from datetime import timedelta

    sign_in(client, "alfred.depot")
    # Accepted or refused for their content, each file counts: decoding is the work.
    for n in range(photos.UPLOADS_PER_HOUR):
        if n % 2:
            assert send(client, jpeg((600 + n, 800))).status_code == 303
        else:
            send(client, b"not a photo at all", "photo.jpg")
        frozen_clock.advance(timedelta(minutes=1))
    page = send(client, jpeg())
    # The first file was sent at 10:30 in Paris (9:30 UTC): the hour ends at 11:30.
    assert error_of(page) == (
        "Vous avez envoyé 10 fichiers en une heure : c'est le plus que le service accepte. "
        "Vous pourrez envoyer votre photo à partir de 11:30."
    )
    assert_shown_again_with_errors(page)
    answered = send(client, jpeg(), headers=HTMX)  # with JavaScript: the same, swapped in
    assert answered.status_code == 422 and "à partir de 11:30" in error_of(answered)
    assert len(stored()) == 1
    with database.connection_context():
        assert photos.PhotoUpload.select().count() == photos.UPLOADS_PER_HOUR  # not counted
    # Another account has its own count.
    client.post("/deconnexion", data={"csrf_token": csrf_token(client.get("/mes-donnees").text)})
    sign_in(client, "camille.martin")
    link = re.findall(r'href="(/mes-donnees/photo/\d+)"', client.get("/mes-donnees").text)[0]
    assert send(client, jpeg(), url=link).status_code == 303
    client.post("/deconnexion", data={"csrf_token": csrf_token(client.get("/mes-donnees").text)})
    # Once the first file is an hour old, one more.
    frozen_clock.advance(timedelta(minutes=50))
    sign_in(client, "alfred.depot")
    assert send(client, jpeg()).status_code == 303
    assert "à partir de 11:31" in error_of(send(client, jpeg()))


def test_uploads_counted_at_the_same_moment_never_pass_the_limit(app):
    with database.connection_context():
        alfred = Account.get(Account.username == "alfred.depot")
    answers = []

    def admit():
        with database.connection_context():
            answers.append(photos.admit_upload(alfred))

    threads = [threading.Thread(target=admit) for _ in range(photos.UPLOADS_PER_HOUR + 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert answers.count(None) == photos.UPLOADS_PER_HOUR
    with database.connection_context():
        assert photos.PhotoUpload.select().count() == photos.UPLOADS_PER_HOUR


MEMORY_AFTER_DECODING = """
import sys, threading
sys.path.insert(0, sys.argv[1])
from tests.test_photos import png_of_depth
from models import photos

def resident():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024

picture = png_of_depth(4000, 3000, 8)  # 48 MB once decoded: the largest allowed
photos.clean(picture)
before = resident()
threads = [threading.Thread(target=lambda: [photos.clean(picture) for _ in range(2)])
           for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(resident() - before)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_the_memory_a_large_decode_took_is_given_back():
    """Eight large photos decoded by four threads (as a worker's): each thread's arena of
    the C allocator kept what the decodes freed (about 80 MB more, for good)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_AFTER_DECODING, str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
    )
    assert result.returncode == 0, result.stderr
    grown = int(result.stdout)
    assert grown < 25, f"{grown} MB more resident memory after the decodes"
