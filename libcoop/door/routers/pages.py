"""The home page (the upload form), and the published dashboard and Data Docs, read-only."""

from __future__ import annotations

import posixpath
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse

from libcoop.door.deps import CurrentUser, PageError, Settings, page
from libcoop.door.store import User
from libcoop.ingest.contract import KIND_COLUMNS
from libcoop.ingest.drop_folder import is_country_code

router = APIRouter(tags=["pages"])


def countries_of(user: User, incoming: Path) -> list[str]:
    """The countries a user may upload to: hers, or for a curator every country folder there is."""
    if not user.is_curator:
        return list(user.countries)
    found = (
        {p.name.upper() for p in incoming.iterdir() if p.is_dir() and is_country_code(p.name)}
        if incoming.is_dir()
        else set()
    )
    return sorted(found | set(user.countries))


@router.get("/")
def home(request: Request, user: CurrentUser, settings: Settings) -> Any:
    return page(
        request, "home.html", user=user, countries=countries_of(user, settings.incoming), kinds=list(KIND_COLUMNS)
    )


def _inside(root: Path, relative: str) -> Path:
    """The file ``relative`` under ``root``, never outside it (no ``..``, no link out)."""
    try:
        base = root.resolve(strict=True)
        target = (base / (relative or "index.html")).resolve(strict=True)
    except (OSError, RuntimeError) as error:
        raise PageError(404, "Page not found", "This page is not published (yet).") from error
    if target.is_dir():
        target = target / "index.html"
    if not target.is_relative_to(base) or not target.is_file():
        raise PageError(404, "Page not found", "This page is not published (yet).")
    return target


def dashboard_file(path: str, user: CurrentUser, settings: Settings) -> Path:
    return _inside(settings.dashboard, path)


def data_docs_file(path: str, user: CurrentUser, settings: Settings) -> Path:
    """A Data Docs page; the country pages only for the user's countries (refused whether the page
    exists or not: the answer never tells which countries have one)."""
    target = _inside(settings.data_docs, _refuse_other_country(path, user))
    _refuse_other_country(target.relative_to(settings.data_docs.resolve()).as_posix(), user)  # after links
    return target


def _refuse_other_country(path: str, user: User) -> str:
    parts = PurePosixPath(posixpath.normpath("/" + path)).parts[1:]
    if len(parts) == 2 and parts[0] == "countries" and parts[1].lower() != "index.html":
        code = parts[1].split(".")[0].upper()
        if len(code) == 2 and not user.can_see(code):
            raise PageError(403, "Not your country", "This page is for the coordinators of another country.")
    return path


@router.get("/dashboard/{path:path}")
def dashboard(target: Annotated[Path, Depends(dashboard_file)]) -> FileResponse:
    return FileResponse(target)


@router.get("/data-docs/{path:path}")
def data_docs(target: Annotated[Path, Depends(data_docs_file)]) -> FileResponse:
    return FileResponse(target)
