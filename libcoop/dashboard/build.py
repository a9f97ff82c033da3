"""Write the dashboard of one warehouse file: ``index.html``, ``countries/<CC>.html`` and ``assets/``.

The figures come from SQL on a read-only connection (``figures``), the charts from Vega-Altair
(``charts``), the pages from the Jinja2 templates in ``templates/``. ``assets/`` holds the Vega,
Vega-Lite and Vega-Embed scripts (bundled by vl-convert, nothing fetched) and the font cut to the
characters of the pages (``fonts``): the folder works opened from disk, with no network.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import shutil
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment
from markupsafe import Markup

from libcoop.dashboard import charts, staged_dashboard
from libcoop.dashboard.cache import cached
from libcoop.dashboard.cells import summaries
from libcoop.dashboard.figures import Figures, compute, reporting_countries
from libcoop.dashboard.fonts import ADVICE, FONT_FAMILY, characters_of, font_source, write_subset
from libcoop.pages import page_environment
from libcoop.settings import warehouse_config

log = logging.getLogger(__name__)

ASSETS = "assets"
SCRIPT_NAME = "vega-embed.js"
FONT_NAME = "libcoop-sans.woff2"
# The Vega-Lite version of the bundled scripts: the one Altair writes its specifications for.
VEGA_LITE_VERSION = "6.4"
COUNTRY_CODE = re.compile(r"[A-Z0-9]{2}")


def vega_bundle(cache_dir: Path | None = None) -> str:
    """Vega, Vega-Lite and Vega-Embed in one script exposing ``vegaEmbed``.

    vl-convert takes seconds to build it, the same script for the same vl-convert and Vega-Lite
    versions: it is kept in ``cache_dir`` under a name carrying both, and in this process."""
    name = f"vega-embed-vl{VEGA_LITE_VERSION}-vl-convert{version('vl-convert-python')}.js"
    return cached(cache_dir, name, lambda: _bundle(VEGA_LITE_VERSION).encode()).decode()


@functools.cache
def _bundle(vl_version: str) -> str:
    import vl_convert

    return vl_convert.javascript_bundle(vl_version=vl_version)


def _environment() -> Environment:
    return page_environment("libcoop.dashboard", strict=False, spec_json=_spec_json)


def _spec_json(spec: dict[str, Any]) -> Markup:
    """A chart specification as JSON safe inside a <script> element (characters kept readable)."""
    text = json.dumps(spec, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))  # noqa: S704


@dataclass(frozen=True)
class View:
    """One chart of a page: its element id, heading, specification (None: no data) and the words instead."""

    id: str
    heading: str
    spec: dict[str, Any] | None
    empty: str


def _views(figures: Figures, *, home: bool) -> list[View]:
    with charts.unchecked():
        return _charted(figures, home=home)


def _charted(figures: Figures, *, home: bool) -> list[View]:
    where = "" if home else f" involving {figures.country_name or figures.country}"
    return [
        View(
            "chart-activities",
            "Cooperation over time",
            charts.activities_per_year(figures, with_filter=home),
            f"No activity{where} is recorded.",
        ),
        View(
            "chart-pairs",
            "Who works with whom",
            charts.national_library_pairs(figures),
            f"No visit between two national libraries{where} is recorded.",
        ),
        View(
            "chart-money",
            "Money",
            charts.donations_in_usd(figures),
            f"No donation with an amount{where} is recorded.",
        ),
        View("chart-books", "Books given", charts.books_given(figures), f"No gift of books{where} is recorded."),
        View(
            "chart-memberships",
            "Memberships",
            charts.memberships_timeline(figures),
            f"No membership{where} is recorded.",
        ),
    ]


def render_pages(con: duckdb.DuckDBPyConnection, *, with_font: bool = True) -> dict[str, str]:
    """Every page of the dashboard, by path relative to its folder: ``index.html``, ``countries/<CC>.html``."""
    env = _environment()
    countries = [c for c in reporting_countries(con) if COUNTRY_CODE.fullmatch(c)]
    with summaries(con):  # the marts summed once, for every page
        home = compute(con)
        common = {
            "font_family": FONT_FAMILY,
            "with_font": with_font,
            "countries": countries,
            "names": home.all_country_names,
            "unconverted_shown": charts.UNCONVERTED_SHOWN,
        }
        pages = {
            "index.html": env.get_template("index.html.j2").render(
                figures=home, views=_views(home, home=True), root="", built_on=charts.built_on(home), **common
            )
        }
        for code in countries:
            figures = compute(con, code)
            pages[f"countries/{code}.html"] = env.get_template("country.html.j2").render(
                figures=figures,
                views=_views(figures, home=False),
                root="../",
                built_on=charts.built_on(figures),
                **common,
            )
    return pages


def build_dashboard(database: Path, target_dir: Path, cache_dir: Path | None = None) -> Path:
    """Write the dashboard of ``database`` (opened read-only) into ``target_dir``, replacing it whole.
    ``cache_dir`` keeps the chart scripts and the cut font from one run to the next (``vega_bundle``,
    ``fonts.write_subset``).

    The pages are written into a temporary folder beside ``target_dir`` and put in place with
    renames. Returns the path of ``index.html``."""
    from libcoop.layout import staged_folder

    target_dir = target_dir.absolute()
    with staged_folder(target_dir) as staging:
        (staging / ASSETS).mkdir(parents=True)
        # Without a font installed, the pages must not point at a file that is not there.
        font = font_source()
        # Under the run's memory ceiling: the sums over the facts spill past it instead of growing.
        with duckdb.connect(str(database), read_only=True, config=warehouse_config()) as con:
            pages = render_pages(con, with_font=font is not None)
        if font is None:
            log.warning(ADVICE)
        else:
            write_subset(characters_of(pages.values()), staging / ASSETS / FONT_NAME, font, cache_dir)
        (staging / ASSETS / SCRIPT_NAME).write_text(vega_bundle(cache_dir), encoding="utf-8")
        for relative, text in pages.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    log.info("dashboard written to %s (%d pages)", target_dir, len(pages))
    return target_dir / "index.html"


def stage_dashboard(build: Path, cache_dir: Path | None = None) -> Path | None:
    """The dashboard of a run's build, written beside it before the publication (``publish`` swaps
    it in with the build file). A failure is logged, not raised: the data still gets published,
    with no dashboard rather than the one of another build."""
    try:
        return build_dashboard(build, staged_dashboard(build), cache_dir)
    except Exception:
        log.exception("the dashboard of %s could not be built; it is published without one", build)
        shutil.rmtree(staged_dashboard(build), ignore_errors=True)
        return None
