"""The holder's photo: checked, cleaned, kept in the database, used for the next card made.

A photo is judged by its content, never by its name or the type the browser
declares: it must decode as JPEG or PNG, within a size in bytes and a number
of pixels, and be large enough to print. It is then drawn again into a new
JPEG, so that nothing of the original file survives but its pixels (no EXIF
with a place or a camera, no comment, no colour profile) and a crafted file
cannot reach the card factory.

Decoding is what costs the server: before any pixel is decoded, the picture's
header says how many bytes decoding it takes (its pixels at their depth, or,
for a progressive JPEG, every coefficient of the picture), and a picture over
MAX_DECODED_BYTES is refused. Each account may send UPLOADS_PER_HOUR files an
hour (counted in the database, so across every server); after a decode the
memory it took is given back to the system.

The photos live in the database, beside the rest of the holder's data: every
app server sees them, backups hold them, and none is ever under the web root.
A holder has at most one current photo; a new one replaces it. The factory's
batches name the photo of each card by its SHA-256 (``RequestLine.photo``),
so a photo a batch used is kept as long as that batch may be written again.
"""

from __future__ import annotations

import hashlib
import io
import struct
import threading
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import BlobField, CharField, DateTimeField, ForeignKeyField, IntegerField
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from .people import Account, Beneficiary, Mandate
from .shared.clock import clock
from .shared.db import BaseModel, lock_names, write_transaction
from .shared.i18n import _
from .shared.memory import give_back_memory
from .shared.prepared import Prepared

MAX_BYTES = 5 * 1024 * 1024  # « 5 Mo »
# An identity photo is 35 × 45 mm; printed at 300 dots per inch, that is 413 × 531 pixels.
MIN_WIDTH, MIN_HEIGHT = 413, 531
# Beyond this, decoding alone would cost the server too much memory (a 5 MB PNG of
# one colour can declare billions of pixels). A JPEG is decoded at a reduced scale,
# so a phone's 50-megapixel photo costs little; a PNG is decoded whole.
MAX_PIXELS = 64_000_000
MAX_PNG_PIXELS = 16_000_000
# What decoding one picture may take, in bytes: a 12-megapixel PNG in 8-bit colour
# (4000 x 3000, 4 bytes a pixel once decoded), half of one in 16-bit colour. A JPEG
# decoded at a reduced scale takes little; a progressive JPEG keeps every coefficient
# of the whole picture meanwhile (2 bytes for each sample of each component).
MAX_DECODED_BYTES = 48 * 1024 * 1024
# Pillow's bytes for a pixel of each mode once decoded (any other mode: 4).
PILLOW_PIXEL_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2}
# PNG colour types (IHDR): samples a pixel.
PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Files an account may send an hour (each decoded, kept or refused).
UPLOADS_PER_HOUR = 10
UPLOAD_WINDOW = timedelta(hours=1)
# Photos decoded at the same time in one process (each may take ~100 MB meanwhile).
DECODING_AT_ONCE = 2
_decoding = threading.BoundedSemaphore(DECODING_AT_ONCE)
# Stored at twice the printed size at most: enough for the card, small to keep.
STORED_MAX = (2 * MIN_WIDTH, 2 * MIN_HEIGHT)
# MPO: a JPEG that carries a second picture (some cameras and phones); its first is used.
JPEG_FORMATS = {"JPEG", "MPO"}
FORMATS = JPEG_FORMATS | {"PNG"}
DECODERS = ["JPEG", "PNG"]  # the JPEG decoder opens MPO files too
JPEG_QUALITY = 90
_SRGB = ImageCms.createProfile("sRGB")

# EXIF orientations that turn the picture a quarter: its width and height swap.
QUARTER_TURNS = {5, 6, 7, 8}
ORIENTATION_TAG = 0x0112


def megabytes(size: int) -> str:
    """« 5 Mo », « 5 MB »."""
    return _("%(number)s Mo", number=size // (1024 * 1024))


class PhotoRefused(ValueError):
    """The file is not a photo this service can use: the message says why and what to do."""


class Photo(BaseModel):
    beneficiary = ForeignKeyField(Beneficiary, backref="photos", on_delete="CASCADE")
    uploaded_by = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    uploaded_at = DateTimeField(default=clock.now)
    sha256 = CharField(index=True)
    width = IntegerField()
    height = IntegerField()
    size = IntegerField()
    data = BlobField()
    replaced_at = DateTimeField(null=True)  # None: the photo for the next card

    @property
    def reference(self) -> str:
        """The photo's name in the factory's batches."""
        return f"{self.sha256}.jpg"


class PhotoUpload(BaseModel):
    """A file an account sent as a photo: what the hourly limit counts."""

    account = ForeignKeyField(Account, on_delete="CASCADE")
    created_at = DateTimeField(index=True)


def admit_upload(account: Account) -> datetime | None:
    """Count a file ``account`` sends against its hourly limit; if that limit is reached,
    nothing is counted and the answer is the moment from which it may send another."""
    now = clock.now()
    with write_transaction():
        # Two servers counting at once must not both see room for one more.
        lock_names(f"photo uploads {account.id}")
        since = now - UPLOAD_WINDOW
        recent = list(
            PhotoUpload.select(PhotoUpload.created_at)
            .where((PhotoUpload.account == account) & (PhotoUpload.created_at > since))
            .order_by(PhotoUpload.created_at.desc())
            .limit(UPLOADS_PER_HOUR)
        )
        if len(recent) >= UPLOADS_PER_HOUR:
            return recent[-1].created_at + UPLOAD_WINDOW
        PhotoUpload.create(account=account, created_at=now)
    return None


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _upright_size(image: Image.Image, size: tuple[int, int]) -> tuple[int, int]:
    """The picture's ``size`` once turned the way its EXIF says."""
    width, height = size
    try:
        orientation = image.getexif().get(ORIENTATION_TAG)
    except (OSError, ValueError, SyntaxError):
        orientation = None
    return (height, width) if orientation in QUARTER_TURNS else (width, height)


def decoded_bytes(image: Image.Image, full_size: tuple[int, int], data: bytes) -> int:
    """What decoding ``image`` takes, in bytes, read from its header (``image`` opened,
    and for a JPEG given its reduced scale; ``full_size`` its size in the file)."""
    width, height = full_size
    if image.format in JPEG_FORMATS and (
        image.info.get("progressive") or image.info.get("progression")
    ):
        # Every coefficient of the picture is kept until the last scan: 2 bytes for each
        # sample of each component, a component's samples fewer when it is subsampled.
        layers = getattr(image, "layer", None) or [("", 1, 1, 0)] * len(image.getbands())
        h_max = max(layer[1] for layer in layers)
        v_max = max(layer[2] for layer in layers)
        samples = sum(width * height * layer[1] * layer[2] / (h_max * v_max) for layer in layers)
        return int(2 * samples)
    pixel = PILLOW_PIXEL_BYTES.get(image.mode, 4)
    if image.format == "PNG" and data[12:16] == b"IHDR":
        # The samples at their depth (16 bits: twice 8), as the decoder produces them.
        depth, colour_type = struct.unpack(">BB", data[24:26])
        pixel = max(pixel, PNG_CHANNELS.get(colour_type, 4) * depth / 8)
    reduced_width, reduced_height = image.size  # a JPEG: at the scale it is decoded at
    return int(reduced_width * reduced_height * pixel)


def clean(data: bytes) -> CleanPhoto:
    """Check a file sent as a photo and draw it again as a JPEG without metadata.

    Decoding is the costly part: at most DECODING_AT_ONCE photos are decoded at a
    time in a process, a picture whose decoding would take more than
    MAX_DECODED_BYTES is refused from its header, a JPEG is decoded directly at the
    smallest scale that still covers the stored size, the picture is made small
    before any other copy, and the memory decoding took is given back afterwards.
    """
    if not data:
        raise PhotoRefused(
            _("Le fichier choisi est vide : choisissez une photo au format JPEG ou PNG")
        )
    if len(data) > MAX_BYTES:
        raise PhotoRefused(too_large_message())
    with _decoding:
        # Never accept a truncated file, whatever another library set for the process.
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            return _clean(data)
        finally:
            give_back_memory()


def _clean(data: bytes) -> CleanPhoto:
    wrong_type = PhotoRefused(
        _(
            "Le fichier choisi n'est pas une photo au format JPEG ou PNG : choisissez un "
            "fichier JPEG (.jpg) ou PNG (.png)"
        )
    )
    broken = PhotoRefused(
        _(
            "Le fichier de la photo est abîmé ou incomplet : enregistrez-la de "
            "nouveau, puis choisissez-la"
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=DECODERS)
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
            raise wrong_type from error
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
            raise PhotoRefused(too_many_pixels_message()) from error
        if image.format not in FORMATS:
            raise wrong_type
        limit = MAX_PIXELS if image.format in JPEG_FORMATS else MAX_PNG_PIXELS
        if image.width * image.height > limit:
            raise PhotoRefused(too_many_pixels_message())
        full_size = image.size
        # Either way up, the stored picture fits in a square of its longer side.
        box = (max(STORED_MAX), max(STORED_MAX))
        if image.format in JPEG_FORMATS:
            try:
                image.draft("RGB", box)  # a JPEG decodes at 1/2, 1/4 or 1/8 of its size
            except (OSError, ValueError, SyntaxError) as error:
                raise broken from error
        # Before anything decodes a pixel (a PNG's EXIF may come after its pixels: reading
        # it decodes them).
        if decoded_bytes(image, full_size, data) > MAX_DECODED_BYTES:
            raise PhotoRefused(too_heavy_message())
        width, height = _upright_size(image, full_size)
        if width < MIN_WIDTH or height < MIN_HEIGHT:
            raise PhotoRefused(
                _(
                    "La photo mesure %(width)s × %(height)s pixels : choisissez une photo "
                    "d'au moins %(min_width)s pixels de large et %(min_height)s pixels de haut",
                    width=width,
                    height=height,
                    min_width=MIN_WIDTH,
                    min_height=MIN_HEIGHT,
                )
            )
        try:
            exif = image.getexif()
            profile = image.info.get("icc_profile")
            image.load()
            image.thumbnail(box, Image.Resampling.LANCZOS)
            image = _in_srgb(image, profile)
            image.getexif().update(exif)  # only its orientation is used, just below
            upright = ImageOps.exif_transpose(image)
        except (OSError, ValueError, SyntaxError) as error:
            raise broken from error
    if upright.mode in ("RGBA", "LA", "P", "PA") or "transparency" in upright.info:
        # A transparent background becomes white, as on a printed photo.
        upright = upright.convert("RGBA")
        background = Image.new("RGBA", upright.size, "white")
        upright = Image.alpha_composite(background, upright)
    upright = upright.convert("RGB")
    upright.thumbnail(STORED_MAX, Image.Resampling.LANCZOS)
    # A new image from the pixels alone: nothing of the file's metadata comes along.
    bare = Image.frombytes("RGB", upright.size, upright.tobytes())
    out = io.BytesIO()
    bare.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return CleanPhoto(out.getvalue(), bare.width, bare.height)


def _in_srgb(image: Image.Image, profile: bytes | None) -> Image.Image:
    """The colours as the file's profile means them, in sRGB (the profile itself is not
    kept); a profile that cannot be read leaves the pixels as they are."""
    if not profile or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image
    return converted or image


def too_large_message() -> str:
    return _(
        "Le fichier choisi dépasse %(size)s : choisissez une photo plus légère, "
        "ou enregistrez-la dans une taille plus petite",
        size=megabytes(MAX_BYTES),
    )


def too_heavy_message() -> str:
    return _(
        "La photo est trop lourde à ouvrir : enregistrez-la dans une taille plus petite "
        "(par exemple 2000 pixels de haut), puis choisissez-la de nouveau"
    )


def too_many_pixels_message() -> str:
    return _(
        "La photo est trop grande en pixels : enregistrez-la dans une taille plus petite, "
        "puis choisissez-la de nouveau"
    )


# What describes a photo, its data left out (read only to serve or export it).
SUMMARY = (Photo.id, Photo.beneficiary, Photo.uploaded_at, Photo.sha256, Photo.width,
           Photo.height, Photo.size)  # fmt: skip
CURRENT = Photo.replaced_at.is_null()


def current_photo(beneficiary: Beneficiary, with_data: bool = False) -> Photo | None:
    return (
        Photo.select(*SUMMARY, *([Photo.data] if with_data else []))
        .where((Photo.beneficiary == beneficiary) & CURRENT)
        .order_by(Photo.id.desc())
        .first()
    )


def current_photos(holder_ids) -> dict[int, Photo]:
    """The current photo of each holder (by id), its data left out, in one query."""
    ids = sorted(set(holder_ids))
    if not ids:
        return {}
    rows = Photo.select(*SUMMARY).where(Photo.beneficiary.in_(ids) & CURRENT).order_by(Photo.id)
    return {row.beneficiary_id: row for row in rows}


_CURRENT_PHOTOS_OF_ACCOUNT = Prepared(
    lambda account: (
        Photo.select(*SUMMARY)
        .join(Mandate, on=(Mandate.beneficiary == Photo.beneficiary))
        .where((Mandate.account == account) & CURRENT)
        .order_by(Photo.id)
    ),
    int,
)


def current_photos_of_account(account) -> dict[int, Photo]:
    """The current photo of each holder ``account`` acts for (by id), in one query."""
    return {row.beneficiary_id: row for row in _CURRENT_PHOTOS_OF_ACCOUNT.rows(account.id)}


def lock_holders(ids) -> None:
    """Serialise the transactions that change or name the holders' photos (inside a
    write transaction): a photo replaced and a batch naming it never cross."""
    lock_names(*(f"photo:{holder}" for holder in ids))


def replace_photo(beneficiary: Beneficiary, account: Account | None, photo: CleanPhoto) -> Photo:
    """``photo`` becomes the one for the next card; the one it replaces is deleted unless
    a batch sent to the factory named it."""
    from .requests import RequestLine

    now = clock.now()
    with write_transaction():
        lock_holders([beneficiary.id])
        previous = list(
            Photo.select(Photo.id, Photo.sha256).where((Photo.beneficiary == beneficiary) & CURRENT)
        )
        for old in previous:
            used = RequestLine.select().where(RequestLine.photo == old.sha256).exists()
            if used:
                Photo.update(replaced_at=now).where(Photo.id == old.id).execute()
            else:
                Photo.delete().where(Photo.id == old.id).execute()
        return Photo.create(
            beneficiary=beneficiary,
            uploaded_by=account,
            uploaded_at=now,
            sha256=photo.sha256,
            width=photo.width,
            height=photo.height,
            size=len(photo.data),
            data=photo.data,
        )


def photos_by_reference(references: set[str]) -> dict[str, bytes]:
    """The photos a batch names, by their SHA-256."""
    if not references:
        return {}
    rows = (
        Photo.select(Photo.sha256, Photo.data)
        .where(Photo.sha256.in_(sorted(references)))
        .order_by(Photo.id)
    )
    return {row.sha256: bytes(row.data) for row in rows}
