"""PDF documents printed from HTML: tagged (PDF/UA-1), with their fonts embedded.

WeasyPrint lays out the HTML and writes the structure tree (headings,
paragraphs, lists, in reading order), ``/MarkInfo``, ``/Lang`` from the page's
``lang``, the title from its ``<title>``, shown in the viewer's window, and a
subset of each font it uses. A screen reader follows the file as it follows the
web page; any character the fonts hold comes out (« Ștefan » stays « Ștefan »).
"""

from __future__ import annotations

import logging

from PIL import ImageFile
from weasyprint import HTML

from .i18n import _

# Imported once, when the service starts: WeasyPrint then tells Pillow, for the whole
# process, to accept truncated images. The PDFs hold no image; the photos sent by
# holders must stay refused when truncated (see models/photos.py).
ImageFile.LOAD_TRUNCATED_IMAGES = False

# WeasyPrint and its font tools narrate their work at INFO and WARNING level.
for _name in ("weasyprint", "fontTools"):
    logging.getLogger(_name).setLevel(logging.ERROR)


def pdf_from_html(html: str) -> bytes:
    return HTML(string=html, url_fetcher=_nothing).write_pdf(pdf_variant="pdf/ua-1")


def _nothing(url: str, *args, **kwargs):
    """A document is printed from its own markup alone: nothing is fetched."""
    raise ValueError(f"{url}: documents load nothing from elsewhere")


def size_label(size: int) -> str:
    """« PDF, 3 Ko »: what a link to a file of ``size`` bytes says about it."""
    kilobytes = max(1, round(size / 1024))
    return _("PDF, %(size)s Ko", size=kilobytes)
