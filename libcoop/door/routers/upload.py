"""Upload: the file checked at once, its report shown, placed in the drop folder when it would load."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from libcoop.door.deps import CsrfChecked, CurrentUser, FormCountry, PageError, Settings, page
from libcoop.door.uploads import UploadRefused, receive
from libcoop.ingest.contract import RULES

router = APIRouter(tags=["upload"])


@router.post("/upload", dependencies=[CsrfChecked])
async def upload(
    request: Request,
    user: CurrentUser,
    country: FormCountry,
    settings: Settings,
    kind: Annotated[str, Form(max_length=20)],
    file: Annotated[UploadFile, File()],
    label: Annotated[str, Form(max_length=100)] = "",
) -> Any:
    try:
        result = await run_in_threadpool(
            receive,
            file.file,
            file.filename or "",
            country=country,
            kind=kind,
            label=label,
            uploads=settings.uploads,
            incoming=settings.incoming,
            limit=settings.max_upload_bytes,
        )
    except UploadRefused as refused:
        raise PageError(refused.status, "File not accepted", str(refused)) from refused
    finally:
        await file.close()
    checked = result.checked
    counts = sorted(checked.problem_counts.items(), key=lambda item: (-item[1], item[0]))
    return page(
        request,
        "report.html",
        user=user,
        country=country,
        result=result,
        checked=checked,
        counts=[(n, RULES[rule][0]) for rule, n in counts],
        given_name=file.filename or "",
    )
