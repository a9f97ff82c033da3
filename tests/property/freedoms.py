"""What the contract's turn 3 leaves free in a file, for the generators (tests/generated_drops.py):
the encoding a coordinator's computer saves in, names typed on a Mac (NFD), title rows above the
header, and the local forms of dates and numbers. Each is applied when the file is written, so the
values a file stands for (its rows' cells and facts) stay the contract's own forms."""

from __future__ import annotations

import re
import unicodedata

from charset_normalizer.md import mess_ratio

from libcoop.ingest.encodings import _NON_ASCII_WORD, MAX_MESS

# What spreadsheet programs save as "CSV" on a computer set to the folder's country's language.
CODE_PAGES = {"JP": "cp932", "CN": "gb18030", "KR": "cp949", "VN": "cp1258"}
ENCODINGS = ("utf-8", "utf-8", "utf-8", "code page", "cp1252", "utf-16")
# Western European words whose Latin-1 bytes also decode in the East Asian code pages (as
# ideographs or Hangul inside the word): the files where the reading must be chosen.
LATIN1_CITIES = ("München", "Zürich", "Göteborg", "Lübeck", "Bibliothèque")
TITLES = (
    "Báo cáo hợp tác quốc tế năm 2015",
    "国際交流の実績（2015年度）",
    "국제 교류 실적",
    "Prepared by the international cooperation office, 2015",
    "",  # a blank row between a title and the header
)
DATE_STYLES = ("iso", "iso", "slash", "dot", "kanji", "hangul")
NUMBER_STYLES = ("plain", "plain", "comma", "space", "no-break", "padded")

# The contract: an ideograph, kana or Hangul between Latin letters inside one word (or small
# Latin letters between ideographs) is never a plausible reading, so a file holding such a word
# can only be read from UTF-8 or UTF-16.
_EAST_ASIAN = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff\uff61-\uff9f"
_MIXED = re.compile(
    f"[A-Za-z\u00c0-\u024f][{_EAST_ASIAN}]+[A-Za-z\u00c0-\u024f]|[{_EAST_ASIAN}][a-z]+[{_EAST_ASIAN}]"
    "|[A-Za-z\u00c0-\u024f][\uff61-\uff9f]|[\uff61-\uff9f][A-Za-z\u00c0-\u024f]"
)
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook above, dot below


def _messy(text: str) -> bool:
    """The contract's other test of a reading: a charset detector's measure (charset_normalizer's,
    over the non-ASCII words, at the check's threshold) finds it messy, as a letter doubled with its
    marks ("ââ", "ầầ") that no language writes. Found by `make fuzz` (a cp1258 file with "Org ââ")."""
    words = dict.fromkeys(_NON_ASCII_WORD.findall(text))
    return bool(words) and mess_ratio(" ".join(words), maximum_threshold=1.0) >= MAX_MESS


def encode_as_windows(text: str, encoding: str) -> bytes:
    """What Vietnamese Windows writes in cp1258: the letter with its vowel marks precomposed (ê, ơ,
    ư, ă), then the tone mark as a combining character."""
    out = b""
    for char in text:
        try:
            out += char.encode(encoding)
            continue
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", char)
        letter = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
        out += (letter + "".join(c for c in decomposed if c in TONE_MARKS)).encode(encoding)
    return out


def encode(text: str, country: str, encoding: str, *, bom: bool, nfd: bool) -> bytes:
    """``text`` saved as ``encoding`` asks; UTF-8 where that encoding cannot hold the text, or where
    the contract would rightly refuse the file (a word no legacy reading makes plausible, mixed
    scripts or a messy reading; cp1252 bytes that read differently, and as plausibly, in Vietnam's
    cp1258)."""
    typed = unicodedata.normalize("NFD", text) if nfd else text
    if encoding == "utf-16":
        return typed.encode("utf-16")
    if encoding in ("code page", "cp1252") and not _MIXED.search(text):
        code_page = CODE_PAGES.get(country, "cp1252") if encoding == "code page" else "cp1252"
        try:
            data = encode_as_windows(text, code_page) if code_page == "cp1258" else text.encode(code_page)
        except UnicodeEncodeError:
            data = b""
        ascii_only = data.isascii()
        differs_in_vn = country == "VN" and code_page == "cp1252" and data.decode("cp1258", "replace") != text
        if data and not ascii_only and not differs_in_vn and not _messy(data.decode(code_page)):
            return data
    return ("\ufeff" if bom else "").encode() + typed.encode("utf-8")


def written_date(iso: str, style: str) -> str:
    """A YYYY / YYYY-MM / YYYY-MM-DD text in one of the local forms the contract reads."""
    if style == "iso" or not re.fullmatch(r"\d{4}(-\d{2}){0,2}", iso):
        return iso
    year, *rest = iso.split("-")
    month, day = (int(p) for p in rest) if len(rest) == 2 else ((int(rest[0]), None) if rest else (None, None))
    if style in ("slash", "dot"):
        if month is None:
            return iso  # a year alone has no local form of its own
        mark = "/" if style == "slash" else "."
        return mark.join([year, str(month), *([str(day)] if day else [])])
    y, m, d = ("年", "月", "日") if style == "kanji" else ("년", "월", "일")
    sep = "" if style == "kanji" else " "
    return sep.join([f"{year}{y}", *([f"{month}{m}"] if month else []), *([f"{day}{d}"] if day else [])])


_SPACES = {"space": " ", "no-break": "\u00a0"}


def written_number(text: str, style: str) -> str:
    """A number with thousands groups (commas, spaces, no-break spaces), or padded with a no-break
    space and a tab, as a spreadsheet may write it."""
    if style == "plain" or not re.fullmatch(r"\d+(\.\d+)?", text):
        return text
    if style == "padded":
        return f"\u00a0{text}\t"
    whole, dot, decimals = text.partition(".")
    grouped = f"{int(whole):,}".replace(",", _SPACES.get(style, ","))
    return grouped + dot + decimals
