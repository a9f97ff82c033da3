"""The app factory: ``create_app(settings)`` wires the routers, the session, the limits and the
error pages. ``libcoop serve`` runs it under uvicorn."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libcoop.door.config import DoorSettings
from libcoop.door.deps import TEMPLATES, LoginLimiter, NotSignedIn, PageError, page
from libcoop.door.routers import auth, country, curation, pages, upload
from libcoop.door.store import Store
from libcoop.door.uploads import clear_leftovers

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
# Room for the form's other fields and the multipart framing around the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024
TOO_LARGE = "libcoop.too_large"
# The door's own pages run no script from elsewhere and are never framed; the published pages it
# serves (dashboard, Data Docs) carry their own inline scripts and styles.
DOOR_CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
SERVED_CSP = "default-src 'self' 'unsafe-inline' data:; frame-ancestors 'self'; form-action 'none'; base-uri 'self'"
SERVED_PREFIXES = ("/dashboard/", "/data-docs/")


class BodyLimit:
    """Refuse a request body larger than ``limit`` bytes without reading it all: at once when its
    Content-Length says so, else as soon as the bytes received go past it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            # Answered at once, the body left unread (the connection is closed after the answer).
            text = render_error(MESSAGES[413][0], too_large_message(self.limit - FORM_OVERHEAD_BYTES))
            await HTMLResponse(text, 413, headers={"connection": "close"})(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    scope.setdefault("state", {})[TOO_LARGE] = True
                    raise StarletteHTTPException(413)
            return message

        await self.app(scope, counted, send)


def render_error(title: str, message: str) -> str:
    """The error page without a request (the body limit answers before the app is reached)."""
    return TEMPLATES.get_template("error.html").render(title=title, message=message, user=None, csrf_token="")


def too_large_message(limit: int) -> str:
    return (
        f"The door accepts files up to {limit // (1024 * 1024)} MB. Nothing was kept. "
        "Split the file by year (visits_2015.csv, visits_2016.csv...) or ask the warehouse's curators."
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = SERVED_CSP if str(scope.get("path", "")).startswith(SERVED_PREFIXES) else DOOR_CSP

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", csp.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"cache-control", b"no-store"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


MESSAGES = {
    400: ("The form could not be read", "Something in the form was missing or malformed. Go back and try again."),
    404: ("Page not found", "There is no page at this address."),
    405: ("Not possible here", "This address does not accept that kind of request."),
    413: ("File too large", "The file is larger than the door accepts."),
}


def create_app(settings: DoorSettings) -> FastAPI:
    app = FastAPI(title="libcoop door", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.store = Store(settings.door_dir)
    app.state.limiter = LoginLimiter()
    clear_leftovers(settings.uploads)
    for router in (auth.router, pages.router, upload.router, country.router, curation.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # Outermost last: the body limit sees every request first, then the session is read.
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="libcoop_door",
        max_age=settings.session_hours * 3600,
        same_site="lax",
        https_only=settings.https_only,
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes + FORM_OVERHEAD_BYTES)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, _: NotSignedIn) -> Any:
        if request.method == "GET":
            return RedirectResponse("/login", status_code=303)
        return page(request, "error.html", 401, title="Please sign in", message="Sign in first, then try again.")

    @app.exception_handler(PageError)
    async def refused(request: Request, error: PageError) -> Any:
        return page(request, "error.html", error.status, title=error.title, message=error.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Any:
        status = error.status_code
        if request.scope.get("state", {}).get(TOO_LARGE):
            status = 413
        title, message = MESSAGES.get(status, ("Something went wrong", "The request could not be served."))
        if status == 413:
            message = too_large_message(settings.max_upload_bytes)
        response = page(request, "error.html", status, title=title, message=message)
        if status == 413:
            response.headers["connection"] = "close"  # the rest of the body is never read
        return response

    @app.exception_handler(RequestValidationError)
    async def bad_form(request: Request, _: RequestValidationError) -> Any:
        if request.scope.get("state", {}).get(TOO_LARGE):
            return page(
                request, "error.html", 413, title=MESSAGES[413][0], message=too_large_message(settings.max_upload_bytes)
            )
        return page(request, "error.html", 400, title=MESSAGES[400][0], message=MESSAGES[400][1])

    @app.exception_handler(Exception)
    async def failed(request: Request, error: Exception) -> Any:
        log.exception("the door failed on %s %s", request.method, request.url.path)
        return page(
            request,
            "error.html",
            500,
            title="Something went wrong on our side",
            message="The page could not be made. Nothing you sent was lost: try again later, or tell the curators.",
        )

    return app
