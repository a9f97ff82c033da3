"""One font for every name on the dashboard: Noto Sans CJK, subset to the characters the pages use.

Chinese, Japanese, Korean and Vietnamese names must render the same on every reader's machine,
offline. The dashboard carries its own font: Debian's ``fonts-noto-cjk`` (Noto Sans CJK, which
also covers Latin with Vietnamese diacritics), cut with fontTools down to the characters of the
pages and written beside them as WOFF2 (a few hundred kilobytes instead of 19 MB)."""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path

from libcoop.dashboard.cache import cached
from libcoop.settings import dashboard_font

log = logging.getLogger(__name__)

# The family name the pages' CSS and the charts' config use for the embedded font.
FONT_FAMILY = "LibcoopSans"
# Debian's fonts-noto-cjk (make installs it); LIBCOOP_DASHBOARD_FONT may point at another
# OpenType font or collection that covers CJK and Vietnamese.
DEFAULT_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
# In the collection: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK. One face serves every name; SC is the default.
DEFAULT_FACE = 2
# Always in the subset, whatever the data: what the charts draw themselves (axis numbers in
# d3-format, including its minus sign U+2212) and common punctuation.
BASE_CHARACTERS = "".join(chr(c) for c in range(0x20, 0x7F)) + "\u00a0–—‘’“”•…·×−→↔"


def font_source() -> Path | None:
    """The font file to subset, or None when none is installed (the pages then use system fonts)."""
    path = dashboard_font() or DEFAULT_FONT
    return path if path.is_file() else None


def characters_of(texts: Iterable[str]) -> str:
    """Every distinct character of ``texts`` and of the base set, sorted (control characters dropped)."""
    chars = set(BASE_CHARACTERS)
    for text in texts:
        chars.update(text)
    return "".join(sorted(c for c in chars if c.isprintable()))


def write_subset(
    characters: str, target: Path, source: Path | None = None, cache_dir: Path | None = None
) -> Path | None:
    """Write the font cut to ``characters`` as WOFF2 at ``target``; None when no font is installed.

    ``cache_dir`` keeps the cut font for the same characters, font file and fontTools (cutting the
    19 MB collection takes seconds, and a night that changes one file mostly shows the same names)."""
    source = source or font_source()
    if source is None:
        log.warning(
            "no CJK font at %s (install Debian's fonts-noto-cjk or set LIBCOOP_DASHBOARD_FONT): "
            "the dashboard falls back to the reader's system fonts",
            DEFAULT_FONT,
        )
        return None
    face = DEFAULT_FACE if source.suffix.lower() in {".ttc", ".otc"} else -1
    stat = source.stat()
    key = f"{source.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0{face}\0{version('fonttools')}\0{characters}"
    name = f"font-{hashlib.sha256(key.encode()).hexdigest()[:24]}.woff2"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(cached(cache_dir, name, lambda: _cut(source, face, characters)))
    log.info("font %s cut to %d characters: %s (%d bytes)", source.name, len(characters), target, target.stat().st_size)
    return target


def _cut(source: Path, face: int, characters: str) -> bytes:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(source, fontNumber=face, lazy=True)
    options = subset.Options()
    options.flavor = "woff2"
    options.hinting = False
    options.desubroutinize = True
    options.name_IDs = ["*"]  # keep the copyright and licence records (SIL Open Font License)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    font.flavor = "woff2"
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()
