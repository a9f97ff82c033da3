"""What may reach a terminal, a log or a page: secrets redacted, control characters escaped.

``redact`` hides the password of a libpq string (``password=...``) or a URL
(``postgresql://user:pw@host``): a DuckLake target carries one, and it is printed in summaries,
errors and logs. ``printable`` escapes the characters a file name or a value may hide: an ESC
sequence that would recolour or rewrite the operator's terminal, a newline that would forge a log
line, a bidi mark that reorders what is shown, a byte that is not UTF-8. ``RedactingFilter`` does
both to every log record; the CLI installs it (``install_log_filter``), and so can an Airflow task."""

from __future__ import annotations

import logging
import re
import unicodedata

MASK = "***"

# libpq keyword/value: password=secret, password = 'it''s secret' (quotes with backslash escapes).
_LIBPQ_PASSWORD = re.compile(r"""(?i)\b(password\s*=\s*)(?:'(?:[^'\\]|\\.)*'?|[^\s'"&;,)]+)""")
# scheme://user:password@host, and ?password=... in a URL's query.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]*@")
_QUERY_PASSWORD = re.compile(r"(?i)([?&](?:password|pass|pwd)=)[^\s&#'\"]+")
# PGPASSWORD=secret in an environment dump or an error quoting a command line.
_ENV_PASSWORD = re.compile(r"(?i)\b(PGPASSWORD\s*=\s*)\S+")


def redact(text: str) -> str:
    """``text`` with every password in a libpq string or URL replaced by ``***``."""
    text = str(text)
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: m[1] + MASK + "@", text)
        text = _QUERY_PASSWORD.sub(lambda m: m[1] + MASK, text)
    text = _ENV_PASSWORD.sub(lambda m: m[1] + MASK, text)
    return _LIBPQ_PASSWORD.sub(lambda m: m[1] + MASK, text)


# Cc: C0/C1 controls (ESC, NUL, newline...); Cf: format characters (bidi marks, zero-width);
# Cs: the lone surrogates Python uses for bytes of a file name that are not UTF-8; Zl, Zp: Unicode
# line and paragraph separators.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str, *, lines: bool = False) -> str:
    """``text`` with every control, format or undecodable character written as an escape
    (``\\x1b``, ``\\u202e``), so that it is shown, never obeyed. ``lines``: keep newlines (a
    multi-line message); a file name never keeps one."""
    text = str(text)
    if text.isprintable() and (not lines or "\n" not in text):
        return text  # the common case, at C speed
    return "".join(
        c if (lines and c == "\n") or unicodedata.category(c) not in _HIDDEN or c == " " else _escape(c) for c in text
    )


def safe(text: str) -> str:
    """Multi-line text for a terminal or a log: secrets redacted, control characters escaped."""
    return printable(redact(text), lines=True)


class RedactingFilter(logging.Filter):
    """Redacts and escapes every record that passes: its message, arguments and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record whose arguments do not format is logged as it is
            return True
        record.msg, record.args = safe(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = safe(record.exc_text)
        if record.stack_info:
            record.stack_info = safe(record.stack_info)
        return True


def install_log_filter(logger: logging.Logger | None = None) -> None:
    """Add the filter to every handler of ``logger`` (default: the root logger), once."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
