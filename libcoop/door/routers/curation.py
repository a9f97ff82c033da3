"""The curators' page: the names coordinators proposed, accepted or refused with who and when."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from libcoop.door.deps import CsrfChecked, Curator, PageError, Settings, StoreDep, page
from libcoop.door.published import institutions_of
from libcoop.door.store import StoreError

router = APIRouter(tags=["curation"])


@router.get("/curation")
def curation_page(request: Request, user: Curator, store: StoreDep, settings: Settings) -> Any:
    proposals = store.proposals()
    names: dict[str, str] = {}
    for country in {p.country_code for p in proposals}:
        names.update({c.institution_code: c.institution_name for c in institutions_of(settings.warehouse, country)})
    return page(
        request,
        "curation.html",
        user=user,
        waiting=[p for p in proposals if p.status == "proposed"],
        decided=[p for p in reversed(proposals) if p.status != "proposed"][:100],
        names=names,
        notice=request.session.pop("notice", None),
    )


@router.post("/curation/{proposal_id}", dependencies=[CsrfChecked])
def decide(
    request: Request,
    proposal_id: int,
    user: Curator,
    store: StoreDep,
    decision: Annotated[Literal["accept", "refuse"], Form()],
) -> Any:
    try:
        proposal = store.decide(proposal_id, decision == "accept", user.email)
    except StoreError as error:
        raise PageError(409, "Already decided", str(error)) from error
    request.session["notice"] = f"'{proposal.alias}' ({proposal.country_code}): {proposal.status}."
    return RedirectResponse("/curation", status_code=303)
