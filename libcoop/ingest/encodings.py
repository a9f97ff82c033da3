"""Which encoding a drop file's bytes were saved in, by plausibility (docs/contract.md section 1).

Bytes that decode without error are not yet text: Latin-1 bytes in a Japanese folder also decode
as cp932, into ideographs inside Latin words (``Biblioth鑷ue``). Each candidate reading is judged
on its words that are not plain ASCII (where readings differ): charset-normalizer's mess measure
over them, and whether their scripts fit (an ideograph, kana or Hangul between Latin letters in
one word, a private-use or C1 control character, an accented capital after a small letter, never
occur in text a person typed). The one
plausible reading wins; none, or two equally plausible, means the file is refused in words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from charset_normalizer.md import mess_ratio

# What spreadsheet programs save as "CSV" on a computer set to the reporting country's language
# (docs/contract.md section 1); cp1252 (Western European) is a candidate everywhere.
LEGACY_ENCODINGS = {"JP": "cp932", "CN": "gb18030", "KR": "cp949", "VN": "cp1258", "TW": "big5", "HK": "big5"}
WESTERN = "cp1252"
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}

# charset-normalizer's own threshold between text and noise.
MAX_MESS = 0.2
# Two readings whose mess differs by less than this are equally plausible: neither is chosen.
SAME_MESS = 0.05
MAX_WORDS_JUDGED = 5_000  # distinct non-ASCII words a reading is judged on
MAX_CHANCE_BYTES = 64  # bytes beyond ASCII up to which valid UTF-8 may be a legacy file by chance

_EAST_ASIAN = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff61-\uff9f"
_LATIN = "A-Za-z\u00c0-\u024f"
_NON_ASCII_WORD = re.compile(r'[^\s,;"]*[^\x00-\x7f][^\s,;"]*')
_MIXED = re.compile(
    f"[{_LATIN}][{_EAST_ASIAN}]+[{_LATIN}]|[{_EAST_ASIAN}][a-z]+[{_EAST_ASIAN}]"
    f"|[{_LATIN}][\uff61-\uff9f]|[\uff61-\uff9f][{_LATIN}]"
)
# What a UTF-8 reading of legacy bytes gives by chance (two bytes that happen to form a UTF-8
# character): C1 controls, phonetic letters, a lone Greek, Cyrillic, Hebrew or Arabic letter
# among other scripts (such letters come in words). Only weighed against a plausible legacy reading.
_CHANCE_UTF8 = re.compile("[\x80-\x9f\u0250-\u02af]|(?<![\u0370-\u07ff])[\u0370-\u07ff](?![\u0370-\u07ff])")
_NEVER_TYPED = re.compile("[\x80-\x9f\ue000-\uf8ff\ufffd]")
# Latin readings of double-byte text: an accented capital right after a small letter or a digit
# (1950Äê), three accented letters in a row (ÖÐÎ), a Latin-1 sign right before a letter (³â, ¹ú).
_LATIN_ODD = re.compile(
    "[a-z0-9\u00df-\u00ff][\u00c0-\u00de]|[\u00c0-\u024f]{3}|[\u00a1-\u00af\u00b1-\u00bf\u00d7\u00f7][A-Za-z\u00c0-\u024f]"
)


@dataclass(frozen=True)
class Reading:
    encoding: str
    text: str
    mess: float
    odd_word: str | None  # a word whose scripts do not fit, when there is one

    @property
    def plausible(self) -> bool:
        return self.odd_word is None and self.mess < MAX_MESS


@dataclass(frozen=True)
class Decoded:
    """The text of a file, or why it has none (``unclear`` names the readings that were weighed)."""

    text: str | None
    encoding: str | None
    unclear: str | None = None


def _judge(encoding: str, text: str) -> Reading:
    words: dict[str, None] = {}
    for match in _NON_ASCII_WORD.finditer(text):
        words.setdefault(match.group(), None)
        if len(words) >= MAX_WORDS_JUDGED:
            break
    odd = next((w for w in words if _MIXED.search(w) or _NEVER_TYPED.search(w) or _LATIN_ODD.search(w)), None)
    mess = mess_ratio(" ".join(words), maximum_threshold=1.0) if words else 0.0
    return Reading(encoding, text, mess, odd)


def utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when the bytes look like UTF-16 text without its byte-order mark:
    in text of mostly Latin letters, every other byte is zero."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    pairs = len(sample) // 2
    zero_odd = sum(1 for b in sample[1::2] if b == 0)
    zero_even = sum(1 for b in sample[0::2] if b == 0)
    if zero_odd > pairs * 0.3 and zero_even < pairs * 0.05:
        return "utf-16-le"
    if zero_even > pairs * 0.3 and zero_odd < pairs * 0.05:
        return "utf-16-be"
    return None


def _strip_boms(text: str) -> str:
    # A file saved twice by tools that each add a byte-order mark starts with two.
    return text.lstrip("\ufeff")


def decode(data: bytes, country_code: str) -> Decoded:
    """The text of ``data``: UTF-8 (with or without BOMs), UTF-16 (with a BOM, or detected without),
    else the plausible one of the country's code page and cp1252."""
    for bom, encoding in UTF16_BOMS.items():
        if data.startswith(bom):
            try:
                return Decoded(_strip_boms(data.decode(encoding)), "utf-16")
            except UnicodeDecodeError:
                return Decoded(None, "utf-16", "the file starts like UTF-16 text but its bytes are not UTF-16")
    # Before UTF-8: UTF-16 of Latin text is valid UTF-8 too, every other character a NUL.
    if encoding := utf16_without_bom(data):
        try:
            return Decoded(data.decode(encoding), encoding)
        except UnicodeDecodeError:
            return Decoded(None, encoding, "the file looks like UTF-16 text but its bytes are not UTF-16")
    try:
        utf8 = _strip_boms(data.decode("utf-8"))
    except UnicodeDecodeError:
        utf8 = None
    # Legacy bytes form valid UTF-8 by chance only in a file with a few of them.
    by_chance = utf8 is not None and len(data) - len(utf8) <= MAX_CHANCE_BYTES and _CHANCE_UTF8.search(utf8)
    if utf8 is not None and not by_chance:
        return Decoded(utf8, "utf-8")
    candidates = list(dict.fromkeys((LEGACY_ENCODINGS.get(country_code, WESTERN), WESTERN)))
    readings = []
    for encoding in candidates:
        try:
            readings.append(_judge(encoding, _strip_boms(data.decode(encoding))))
        except UnicodeDecodeError:
            continue
    plausible = sorted((r for r in readings if r.plausible), key=lambda r: r.mess)
    if utf8 is not None and not plausible:
        return Decoded(utf8, "utf-8")  # valid UTF-8 with odd characters beats no reading at all
    if not readings:
        return Decoded(None, None)  # bytes no candidate can read: the caller says where
    if plausible and (len(plausible) == 1 or _better(plausible[0], plausible[1])):
        return Decoded(plausible[0].text, plausible[0].encoding)
    shown = plausible[:2] or readings
    examples = _examples(shown)
    words = "; ".join(f"read as {r.encoding} it would say '{e}'" for r, e in zip(shown, examples, strict=True))
    verdict = "either reading could be right" if len(plausible) > 1 else "neither reading gives plausible text"
    return Decoded(None, None, f"{words}: {verdict}")


def _words(text: str) -> set[str]:
    return {m.group() for m in _NON_ASCII_WORD.finditer(text)}


def _better(first: Reading, second: Reading) -> bool:
    """Whether ``first`` is clearly the more plausible, judged on the words where the two differ
    (over all words, a few differing ones weigh nothing)."""
    if first.text == second.text:
        return True
    ones, others = _words(first.text), _words(second.text)
    own = " ".join(sorted(ones - others)[:MAX_WORDS_JUDGED])
    theirs = " ".join(sorted(others - ones)[:MAX_WORDS_JUDGED])
    return mess_ratio(theirs, maximum_threshold=1.0) - mess_ratio(own, maximum_threshold=1.0) >= SAME_MESS


def _examples(readings: list[Reading]) -> list[str]:
    """A word of each reading: the one whose scripts do not fit, else the first where they differ."""
    lists = [[m.group() for m in _NON_ASCII_WORD.finditer(r.text[:200_000])] for r in readings]
    differing = next((i for i, ws in enumerate(zip(*lists, strict=False)) if len(set(ws)) > 1), 0)
    return [
        (r.odd_word or (words[differing] if differing < len(words) else (words or [""])[0]))[:40]
        for r, words in zip(readings, lists, strict=True)
    ]
