"""Signing in and out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from libcoop.door.deps import CsrfChecked, CurrentUser, StoreDep, csrf_token, page

router = APIRouter(tags=["auth"])


@router.get("/login")
def login_page(request: Request) -> Any:
    return page(request, "login.html")


@router.post("/login", dependencies=[CsrfChecked])
def login(
    request: Request,
    store: StoreDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
) -> Any:
    limiter = request.app.state.limiter
    keys = (f"address:{request.client.host if request.client else '?'}", f"email:{email.strip().lower()}")
    if limiter.blocked(*keys):
        return page(
            request,
            "login.html",
            429,
            error="Too many failed sign-ins: wait 15 minutes, then try again "
            "(or ask the curators to reset your password).",
            email=email,
        )
    user = store.authenticate(email, password)
    if user is None:
        limiter.failed(*keys)
        return page(request, "login.html", 401, error="The email or the password is not right.", email=email)
    limiter.succeeded(*keys)
    request.session.clear()  # a new session on sign-in: a token planted before it is worthless
    request.session["email"] = user.email
    request.session["nonce"] = store.session_nonce(user.email)
    csrf_token(request)
    return RedirectResponse("/", status_code=303)


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, user: CurrentUser, store: StoreDep) -> Any:
    store.session_nonce(user.email, renew=True)  # every copy of her session cookie stops working
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
