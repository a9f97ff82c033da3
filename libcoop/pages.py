"""The Jinja environment of the HTML pages libcoop writes (the dashboard, the data-quality site):
one setup for both, below the steps that render them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Undefined, select_autoescape


def page_environment(package: str, *, strict: bool = True, **filters: Callable[..., Any]) -> Environment:
    """Templates from ``package``'s ``templates`` folder, escaped as HTML, with ``filters``. ``strict``:
    a name a template uses and the page does not give is an error, not an empty string."""
    env = Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined if strict else Undefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(filters)
    return env
