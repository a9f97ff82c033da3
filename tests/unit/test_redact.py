"""No secret and no raw control character in what libcoop prints, logs or records (issue 30:
"a secret in the output"; issue 32: "names that lie")."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libcoop.pipeline import RunSummary
from libcoop.redact import RedactingFilter, install_log_filter, printable, redact, safe

SECRET = "s3cr3t-XYZ"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dbname=lake host=127.0.0.1 password=s3cr3t-XYZ", "dbname=lake host=127.0.0.1 password=***"),
        ("password = s3cr3t-XYZ user=lib", "password = *** user=lib"),
        ("PASSWORD='s3cr3t XYZ' port=5432", "PASSWORD=*** port=5432"),
        (r"password='it\'s s3cr3t-XYZ' port=5432", "password=*** port=5432"),
        ("ducklake:postgres:password=s3cr3t-XYZ dbname=lake", "ducklake:postgres:password=*** dbname=lake"),
        ("postgresql://lib:s3cr3t-XYZ@db.example:5432/lake", "postgresql://lib:***@db.example:5432/lake"),
        ("postgres://:s3cr3t-XYZ@localhost/lake", "postgres://:***@localhost/lake"),
        ("postgresql://db/lake?user=lib&password=s3cr3t-XYZ&sslmode=require",
         "postgresql://db/lake?user=lib&password=***&sslmode=require"),
        ("PGPASSWORD=s3cr3t-XYZ psql", "PGPASSWORD=*** psql"),
        ("cannot attach 'dbname=lake password=s3cr3t-XYZ': refused", "cannot attach 'dbname=lake password=***': refused"),
    ],
)  # fmt: skip
def test_passwords_in_libpq_strings_and_urls_are_redacted(text, expected):
    assert redact(text) == expected
    assert SECRET not in redact(text)


@pytest.mark.parametrize(
    "text",
    ["dbname=lake host=127.0.0.1 user=postgres", "https://example.org/a:b@c", "the password was wrong", "user@host"],
)
def test_text_without_a_password_is_unchanged(text):
    assert redact(text) == text


@given(
    st.text(
        st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="'\"&;,)"), min_size=1
    )
)
def test_any_unquoted_password_value_is_hidden(secret):
    shown = redact(f"host=db password={secret} port=5432")
    assert shown == "host=db password=*** port=5432"


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("visits.csv\n", "visits.csv\\x0a"),
        ("visits\x1b[2J\x1b[31m.csv", "visits\\x1b[2J\\x1b[31m.csv"),
        ("visits\u202egnp.csv", "visits\\u202egnp.csv"),  # a right-to-left override reorders what is shown
        ("visits\u200b.csv", "visits\\u200b.csv"),
        ("vis\udcffits.csv", "vis\\udcffits.csv"),  # a byte of the name that is not UTF-8
        ("Thư viện Quốc gia.csv", "Thư viện Quốc gia.csv"),
        ("국립중앙도서관 visits.csv", "국립중앙도서관 visits.csv"),
    ],
)
def test_printable_escapes_control_format_and_undecodable_characters_only(name, shown):
    assert printable(name) == shown
    shown.encode("utf-8")  # always printable to a UTF-8 terminal


def test_printable_keeps_newlines_of_a_multi_line_text_only_when_asked():
    assert printable("a\nb\x1b", lines=True) == "a\nb\\x1b"
    assert printable("a\nb") == "a\\x0ab"


@given(st.text())
def test_nothing_printable_returns_holds_a_control_character(text):
    shown = printable(text)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in shown)
    shown.encode("utf-8")


def test_the_log_filter_redacts_messages_arguments_and_tracebacks():
    stream = io.StringIO()
    logger = logging.getLogger("libcoop.test_redact")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        install_log_filter(logger)
        install_log_filter(logger)  # once only
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
        logger.warning("attach %s failed", f"dbname=lake password={SECRET}")
        logger.warning("file name VN/visits\x1b[31m.csv")
        try:
            raise RuntimeError(f"postgresql://lib:{SECRET}@db/lake refused")
        except RuntimeError:
            logger.exception("publish failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert SECRET not in text
    assert "\x1b" not in text
    assert "password=***" in text and "postgresql://lib:***@db/lake" in text and "visits\\x1b[31m.csv" in text
    assert "Traceback" in text


def test_the_run_summary_shows_neither_a_password_nor_a_raw_escape(tmp_path: Path):
    summary = RunSummary(
        "r1",
        "published",
        tmp_path / "cooperation.duckdb",
        {"loaded": 1, "skipped": 1},
        file_names={"loaded": ["VN/visits.csv"], "skipped": ["VN/visits\x1b]0;pwned\x07.csv"]},
        lake=f"ducklake:postgres:dbname=lake host=127.0.0.1 password={SECRET}, snapshot 3",
        message=f"note from postgresql://lib:{SECRET}@db/lake",
    )
    text = summary.render()
    assert SECRET not in text
    assert "\x1b" not in text and "\x07" not in text
    assert "VN/visits\\x1b]0;pwned\\x07.csv" in text
    assert "published to: ducklake:postgres:dbname=lake host=127.0.0.1 password=***, snapshot 3" in text


def test_safe_does_both():
    assert safe(f"a password={SECRET}\n\x1b[0m") == "a password=***\n\\x1b[0m"
