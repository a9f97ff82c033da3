"""Her country's page: its files and their state, its unresolved names, and her proposals."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from libcoop.door.deps import CsrfChecked, CurrentUser, PageError, PathCountry, Settings, StoreDep, page
from libcoop.door.published import country_files, file_notes, institutions_of, unresolved_names

router = APIRouter(tags=["country"])
NEW_INSTITUTION = "new"


@router.get("/countries/{country}")
def country_page(request: Request, country: PathCountry, user: CurrentUser, settings: Settings, store: StoreDep) -> Any:
    names = unresolved_names(settings.warehouse, country)
    files = country_files(settings.warehouse, settings.incoming, country)
    reports = settings.raw_dir / "reports"
    institutions = {n.country_code: institutions_of(settings.warehouse, n.country_code) for n in names}
    proposals = {(p.alias, p.country_code): p for p in store.proposals(country_codes=(country,))}
    docs = settings.data_docs / "countries" / f"{country}.html"
    return page(
        request,
        "country.html",
        user=user,
        country=country,
        files=files,
        notes={
            f.file_path: notes for f in files if f.state != "rejected" and (notes := file_notes(reports, f.file_path))
        },
        names=names,
        institutions=institutions,
        proposals=proposals,
        has_docs=docs.is_file(),
        has_dashboard=(settings.dashboard / "index.html").is_file(),
        published=settings.warehouse.is_file(),
        notice=request.session.pop("notice", None),
    )


@router.post("/countries/{country}/proposals", dependencies=[CsrfChecked])
def propose(
    request: Request,
    country: PathCountry,
    user: CurrentUser,
    settings: Settings,
    store: StoreDep,
    institution_key: Annotated[str, Form(max_length=100)],
    choice: Annotated[str, Form(max_length=100)],
) -> Any:
    """ "This name is <institution>" or "this is a new institution", for a name of her own files."""
    name = next(
        (n for n in unresolved_names(settings.warehouse, country) if n.institution_key == institution_key), None
    )
    if name is None:
        raise PageError(404, "Name not found", "This name is not among the unresolved names of your files (any more).")
    codes = {c.institution_code: c.institution_name for c in institutions_of(settings.warehouse, name.country_code)}
    if choice != NEW_INSTITUTION and choice not in codes:
        raise PageError(400, "Choose an institution", "Choose one of the institutions listed, or 'a new institution'.")
    code = None if choice == NEW_INSTITUTION else choice
    store.propose(name.name, name.country_code, country, code, user.email)
    said = "a new institution" if code is None else codes[code]
    request.session["notice"] = (
        f"Thank you: '{name.name}' is {said}. A curator will look at it; it takes effect in the next run."
    )
    return RedirectResponse(f"/countries/{country}", status_code=303)
