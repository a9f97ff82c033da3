"""The dependencies every route declares: the settings, the store, the signed-in user, the
countries she may see, the CSRF token. Authorization lives here, never in a handler's ``if``."""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Form, Request
from fastapi.templating import Jinja2Templates

from libcoop.door.config import DoorSettings
from libcoop.door.store import Store, User
from libcoop.errors import LibcoopError
from libcoop.ingest.drop_folder import is_country_code

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
# The language of each country's names, for the lang attribute (fonts and line breaking follow it).
LANGUAGES = {"VN": "vi", "CN": "zh-Hans", "TW": "zh-Hant", "HK": "zh-Hant", "JP": "ja", "KR": "ko", "TH": "th"}
TEMPLATES.env.filters["lang_of"] = lambda country: LANGUAGES.get(str(country or "").upper(), "")


class NotSignedIn(Exception):
    """No valid session: the page answers with the sign-in page."""


class PageError(LibcoopError):
    """A request refused, with its status and a message in plain words."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def get_settings(request: Request) -> DoorSettings:
    return request.app.state.settings


def get_store(request: Request) -> Store:
    return request.app.state.store


Settings = Annotated[DoorSettings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]


def current_user(request: Request, store: StoreDep) -> User:
    email, nonce = request.session.get("email"), request.session.get("nonce")
    user = store.user(email) if isinstance(email, str) else None
    if user is None or not isinstance(nonce, str) or not secrets.compare_digest(nonce, store.session_nonce(user.email)):
        request.session.pop("email", None)
        raise NotSignedIn
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def _allowed_country(code: str, user: User) -> str:
    code = code.strip().upper()
    if not is_country_code(code) or not user.can_see(code):
        raise PageError(
            403,
            "Not your country",
            f"Your account ({user.email}) is for {', '.join(user.countries) or 'no country'}: "
            "you can neither see nor send the files of another country.",
        )
    return code


def country_in_path(country: str, user: CurrentUser) -> str:
    """The ``{country}`` of the URL, when the signed-in user may see it."""
    return _allowed_country(country, user)


def country_in_form(country: Annotated[str, Form(max_length=8)], user: CurrentUser) -> str:
    """The ``country`` field of a form, when the signed-in user may write to it (forms can be edited)."""
    return _allowed_country(country, user)


PathCountry = Annotated[str, Depends(country_in_path)]
FormCountry = Annotated[str, Depends(country_in_form)]


def curator(user: CurrentUser) -> User:
    if not user.is_curator:
        raise PageError(403, "For curators only", "Only the warehouse's curators decide on the names proposed.")
    return user


Curator = Annotated[User, Depends(curator)]


def csrf_token(request: Request) -> str:
    """The session's token, put in every form (created with the session)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_protect(request: Request, csrf_token: Annotated[str, Form(max_length=100)] = "") -> None:
    """Every POST carries the session's token, and comes from this site when the browser says where from."""
    expected = request.session.get("csrf")
    origin = request.headers.get("origin")
    foreign = origin is not None and urlsplit(origin).netloc != request.headers.get("host", "")
    if foreign or not isinstance(expected, str) or not secrets.compare_digest(expected, csrf_token):
        raise PageError(
            403,
            "Form refused",
            "This form was not sent from a page of this site, or it is too old. "
            "Go back, reload the page and try again.",
        )


CsrfChecked = Depends(csrf_protect)


class LoginLimiter:
    """At most ``attempts`` failed sign-ins per address and per email within ``window`` seconds."""

    def __init__(self, attempts: int = 5, window: float = 900) -> None:
        self.attempts, self.window = attempts, window
        self.failures: dict[str, list[float]] = {}
        self.lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        kept = [t for t in self.failures.get(key, []) if now - t < self.window]
        self.failures[key] = kept
        return kept

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self.lock:
            return any(len(self._recent(k, now)) >= self.attempts for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self.lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self.lock:
            for key in keys:
                self.failures.pop(key, None)


def page(request: Request, template: str, status: int = 200, **context: object):  # type: ignore[no-untyped-def]
    """A page from the templates, with what every page needs (the user, the form token)."""
    context.setdefault("user", None)
    return TEMPLATES.TemplateResponse(
        request, template, {"csrf_token": csrf_token(request), **context}, status_code=status
    )
