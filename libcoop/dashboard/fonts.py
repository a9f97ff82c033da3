"""One font for every name on the dashboard: Noto Sans CJK, subset to the characters the pages use.

Chinese, Japanese, Korean and Vietnamese names must render the same on every reader's machine,
offline. The dashboard carries its own font: Noto Sans CJK (Debian's ``fonts-noto-cjk``; it also
covers Latin with Vietnamese diacritics), cut with fontTools down to the characters of the pages
and written beside them as WOFF2, a small part of the whole collection's size.

The font is looked for where Linux distributions and macOS put one, then asked of fontconfig
(``fc-match``); without one the pages use the reader's fonts, and ``python -m
libcoop.dashboard.fonts`` (``make run``) says in one line how to get one: nothing needs apt or sudo."""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
import subprocess
import sys
from collections.abc import Iterable
from functools import cache
from importlib.metadata import version
from pathlib import Path

from libcoop.dashboard.cache import cached
from libcoop.settings import dashboard_font

log = logging.getLogger(__name__)

# The family name the pages' CSS and the charts' config use for the embedded font.
FONT_FAMILY = "LibcoopSans"
# Debian's fonts-noto-cjk; LIBCOOP_DASHBOARD_FONT may point at another OpenType font or
# collection that covers CJK and Vietnamese.
DEFAULT_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
# Where other systems put Noto Sans CJK (or Source Han Sans, the same design).
KNOWN_FONTS = (
    DEFAULT_FONT,
    Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"),  # Fedora, RHEL
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),  # Arch, openSUSE
    Path("/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/local/share/fonts/NotoSansCJK-Regular.ttc"),
    Path("/opt/homebrew/share/fonts/NotoSansCJK-Regular.ttc"),
    Path.home() / "Library/Fonts/NotoSansCJK-Regular.ttc",  # macOS, Homebrew's font-noto-sans-cjk cask
    Path("/Library/Fonts/NotoSansCJK-Regular.ttc"),
    Path.home() / ".local/share/fonts/NotoSansCJK-Regular.ttc",
)
# Characters a found font must cover: Chinese, Japanese, Korean and Vietnamese.
MUST_COVER = "国図도ệ"
ADVICE = (
    "no CJK font found for the dashboard (Debian/Ubuntu: apt install fonts-noto-cjk; Fedora: dnf install "
    "google-noto-sans-cjk-fonts; macOS: brew install --cask font-noto-sans-cjk; or set "
    "LIBCOOP_DASHBOARD_FONT to a font file): the pages use the reader's own fonts until then"
)
# In the collection: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK. One face serves every name; SC is the default.
DEFAULT_FACE = 2
# Always in the subset, whatever the data: what the charts draw themselves (axis numbers in
# d3-format, including its minus sign U+2212) and common punctuation.
BASE_CHARACTERS = "".join(chr(c) for c in range(0x20, 0x7F)) + "\u00a0–—‘’“”•…·×−→↔"


def font_source() -> Path | None:
    """The font file to subset, or None when none is installed (the pages then use system fonts):
    LIBCOOP_DASHBOARD_FONT, else Noto Sans CJK where systems install it, else fontconfig's pick."""
    if chosen := dashboard_font():
        return chosen if chosen.is_file() else None
    for path in KNOWN_FONTS:
        if path.is_file():
            return path
    return _fontconfig_font()


@cache
def _fontconfig_font() -> Path | None:
    """What fontconfig offers for Chinese text, when it covers every script of the pages
    (fc-match always answers something: DejaVu, without a CJK font)."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    try:
        found = subprocess.run(  # noqa: S603 - fontconfig's own tool, found on PATH, fixed arguments
            [fc_match, "-f", "%{file}", "Noto Sans CJK SC:lang=zh-cn"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(found) if found else None
    return path if path is not None and path.is_file() and _covers(path, MUST_COVER) else None


def _covers(path: Path, characters: str) -> bool:
    from fontTools.ttLib import TTFont

    try:
        cmap = TTFont(path, fontNumber=_face(path), lazy=True).getBestCmap() or {}
    except Exception:  # noqa: BLE001 - any font fontTools cannot read is no font for the dashboard
        return False
    return all(ord(c) in cmap for c in characters)


def _face(source: Path) -> int:
    """The face of a collection to use: Noto Sans CJK's Simplified Chinese one, else the first."""
    if source.suffix.lower() not in {".ttc", ".otc"}:
        return -1
    return DEFAULT_FACE if "NotoSansCJK" in source.name or "SourceHanSans" in source.name else 0


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
    whole collection takes seconds, and a night that changes one file mostly shows the same names)."""
    source = source or font_source()
    if source is None:
        log.warning(ADVICE)
        return None
    face = _face(source)
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


def main() -> int:
    """``make run``: the font the dashboard will use, or one line of advice (exit 1, never an error)."""
    source = font_source()
    print(f"dashboard font: {source}" if source else f"note: {ADVICE}")
    return 0 if source else 1


if __name__ == "__main__":
    sys.exit(main())
