"""The dashboard's charts, made with Vega-Altair from the frames of ``libcoop.dashboard.figures``.

Each function returns a Vega-Lite specification (a dict) with its data inline, a plain-words
title, the unit of every axis and legend, and the build date in the subtitle; the pages render
them with the Vega scripts bundled beside them (no request to any host). A view with no data
returns None: the page says so in words instead of drawing an empty frame.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import altair as alt
import pandas as pd
from altair.utils.schemapi import debug_mode

from libcoop.dashboard.figures import Figures
from libcoop.dashboard.fonts import FONT_FAMILY

FAMILIES = ["membership", "visit", "donation"]
FAMILY_COLOURS = ["#6a3d9a", "#1f78b4", "#e6870b"]
WIDTH = 720
# A chart carries its rows inline in the page. Above these many, the donations are summed per year
# and donor country (the tooltips give counts and totals instead of each donation), and the
# memberships timeline shows the memberships in force first, then the latest ended ones.
DETAIL_ROWS = 1000
MEMBERSHIPS_SHOWN = 60
# The donations whose amount has no known USD rate are listed under the money chart, the earliest
# first, up to this many: the chart counts them all, and a page stays readable (and small) however
# many there are.
UNCONVERTED_SHOWN = 50
# The activities per year are the allocated measure (marts.fct_activity_year_allocated): the page
# says so in words, on the chart and under it.
SPREAD_NOTE = "activities spanning several years are spread evenly over them"
ACTIVITIES_AXIS = "Activities (count, spread over their years)"


@contextmanager
def unchecked() -> Iterator[None]:
    """Charts made without Altair's debug mode, in which each object of a chart is checked against
    the Vega-Lite schema as it is made: slow, and the same check as the one ``_spec`` leaves to
    tests/unit/test_dashboard.py, which checks every chart of a dashboard against the schema."""
    with debug_mode(False):
        yield


def built_on(figures: Figures) -> str:
    if figures.built_at is None:
        return "build date unknown"
    return f"built {figures.built_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def _scope(figures: Figures) -> str:
    if figures.country is None:
        return "all countries"
    return f"activities {figures.country_name or figures.country} ({figures.country}) takes part in"


def _title(text: str, figures: Figures, *notes: str) -> alt.TitleParams:
    return alt.TitleParams(text, subtitle=[f"{_scope(figures)}; {built_on(figures)}", *notes], anchor="start")


def _years(values: pd.Series) -> list[int]:
    """Every year from the first to the last, so that empty years show as gaps."""
    years = [int(y) for y in values.dropna()]
    return list(range(min(years), max(years) + 1)) if years else []


def _width(years: list[int]) -> int:
    """Bars of a sensible width: a chart of one or two years is not stretched across the page."""
    return max(180, min(WIDTH, 26 * len(years)))


def _bounded(
    rows: pd.DataFrame, by: list[str], column: str, each: list[alt.Tooltip], summed: list[alt.Tooltip]
) -> tuple[pd.DataFrame, list[alt.Tooltip]]:
    """The rows a chart carries, with their tooltips: each row (``donations`` 1) up to DETAIL_ROWS,
    else ``column`` summed and the rows counted (``donations``) per group of ``by``."""
    if len(rows) <= DETAIL_ROWS:
        return rows.assign(donations=1), each
    grouped = rows.groupby(by, dropna=False).agg(**{column: (column, "sum"), "donations": (column, "size")})
    return grouped.reset_index(), summed


def _spec(chart: alt.TopLevelMixin, figures: Figures, title: str, *notes: str) -> dict[str, Any]:
    """The chart with its title (the scope and build date under it, then ``notes``), themed, as a dict."""
    # One configure call: each of Altair's configure_* copies the whole chart.
    themed = chart.properties(title=_title(title, figures, *notes)).configure(
        font=f"{FONT_FAMILY}, sans-serif",
        view=alt.ViewConfig(stroke="#c9d1da"),
        title=alt.TitleConfig(fontSize=15, subtitleFontSize=12, subtitleColor="#5b6b7b", subtitlePadding=4),
        axis=alt.AxisConfig(labelFontSize=11, titleFontSize=12),
        legend=alt.LegendConfig(labelFontSize=11, titleFontSize=12),
    )
    # Altair's check against the Vega-Lite schema is slow, and a night makes many charts:
    # tests/unit/test_dashboard.py checks every chart of a dashboard against it instead.
    return themed.to_dict(validate=False)


def activities_per_year(figures: Figures, *, with_filter: bool) -> dict[str, Any] | None:
    """(1) Activities per year by family, with a country filter on the home page."""
    data = figures.activities
    if not with_filter:
        data = data[data["country"] == "all"]
    if data.empty:
        return None
    notes = [
        "a visit or donation between two countries counts for each; memberships count in the year joined",
        SPREAD_NOTE,
    ]
    if figures.undated_activities:
        notes.append(f"{figures.undated_activities} activities with no known date are not shown")
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title="Year", scale=alt.Scale(domain=_years(data["year"]))),
            y=alt.Y("sum(activities):Q", title=ACTIVITIES_AXIS, axis=alt.Axis(format="~r")),
            color=alt.Color(
                "activity_family:N",
                title="Family",
                scale=alt.Scale(domain=FAMILIES, range=FAMILY_COLOURS),
            ),
            tooltip=[
                alt.Tooltip("year:O", title="Year"),
                alt.Tooltip("activity_family:N", title="Family"),
                alt.Tooltip("sum(activities):Q", title="Activities (spread over their years)", format=",.2~f"),
            ],
        )
        .properties(
            width=_width(_years(data["year"])),
            height=260,
        )
    )
    if with_filter:
        codes = sorted(c for c in data["country"].unique() if c != "all")
        names = figures.all_country_names
        country = alt.param(
            name="country",
            value="all",
            bind=alt.binding_select(
                options=["all", *codes],
                labels=["All countries", *(f"{names.get(c, c)} ({c})" for c in codes)],
                name="Country: ",
            ),
        )
        chart = chart.add_params(country).transform_filter(alt.datum.country == country)
    return _spec(chart, figures, "Cooperation over time: activities per year", *notes)


def national_library_pairs(figures: Figures) -> dict[str, Any] | None:
    """(2) Who works with whom: visits between national libraries per pair of countries."""
    pairs = figures.pairs
    if pairs.empty:
        return None
    data = pairs.assign(
        country=pairs["country_a_name"] + " (" + pairs["country_a"] + ")",
        partner=pairs["country_b_name"] + " (" + pairs["country_b"] + ")",
        participants_label=[("not stated" if pd.isna(p) else f"{int(p):,}") for p in pairs["participants"]],
    )
    # The data is given to the layers, not to their marks: Altair then has no marks' data to compare.
    base = alt.Chart().encode(
        x=alt.X("country:N", title="National library of", axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("partner:N", title="with the national library of"),
        tooltip=[
            alt.Tooltip("country:N", title="Country"),
            alt.Tooltip("partner:N", title="Partner"),
            alt.Tooltip("visits:Q", title="Visits (records)"),
            alt.Tooltip("delegations:Q", title="Delegations"),
            alt.Tooltip("participants_label:N", title="Participants (people)"),
        ],
    )
    size = {"width": alt.Step(64), "height": alt.Step(36)}
    by_delegations = alt.layer(
        base.mark_rect().encode(
            color=alt.Color("delegations:Q", title="Delegations (count)", scale=alt.Scale(scheme="blues"))
        ),
        base.mark_text(fontSize=12).encode(text=alt.Text("delegations:Q", format=",")),
        data=data,
    ).properties(title="Weighted by delegations (count)", **size)
    by_participants = alt.layer(
        base.mark_rect().encode(
            color=alt.Color("participants:Q", title="Participants (people)", scale=alt.Scale(scheme="oranges"))
        ),
        base.mark_text(fontSize=12).encode(text="participants_label:N"),
        data=data,
    ).properties(title="Weighted by participants (people)", **size)
    chart = alt.hconcat(by_delegations, by_participants).resolve_scale(color="independent")
    return _spec(
        chart,
        figures,
        "Who works with whom: visits between national libraries",
        "both directions counted once per pair of countries; empty cells: no visit recorded",
    )


def donations_in_usd(figures: Figures) -> dict[str, Any] | None:
    """(3) Money: donations in USD by donor country and year; amounts with no known rate apart."""
    donations = figures.donations
    converted = donations[donations["amount_usd"].notna()]
    unconverted = figures.unconverted_donations
    if converted.empty and unconverted.empty:
        return None
    years = _years(donations[donations["amount"].notna()]["year"])
    named = donations.assign(
        donor_country_label=donations["donor_country_name"] + " (" + donations["donor_country"] + ")"
    )
    without_amount = int(donations["amount"].isna().sum())
    notes = [
        f"{len(unconverted)} donations have an amount with no known USD rate: counted below, never as zero"
        if len(unconverted)
        else "every amount is converted at the average rate of its start year",
        f"{without_amount} donations state no amount (in kind or not given) and are not in this chart",
    ]
    year, country = alt.Tooltip("year:O", title="Year"), alt.Tooltip("donor_country_label:N", title="Donor country")
    donor, count = alt.Tooltip("donor:N", title="Donor"), alt.Tooltip("donations:Q", title="Donations", format=",")
    usd = alt.Tooltip("amount_usd:Q", title="Amount (USD)", format=",.0f")
    converted_rows, money_tooltip = _bounded(
        named[named["amount_usd"].notna()],
        ["year", "donor_country_label"],
        "amount_usd",
        each=[year, country, donor, alt.Tooltip("project:N", title="Project"), usd],
        summed=[year, country, count, usd],
    )
    money = (
        alt.Chart(converted_rows)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title="Year (start of the donation)", scale=alt.Scale(domain=years)),
            y=alt.Y("sum(amount_usd):Q", title="Amount (USD)", axis=alt.Axis(format="~s")),
            color=alt.Color("donor_country_label:N", title="Donor country"),
            tooltip=money_tooltip,
        )
        .properties(width=_width(years), height=240)
    )
    parts: list[Any] = [money]
    if not unconverted.empty:
        own = alt.Tooltip("amount:Q", title="Amount (own currency)", format=",")
        currency = alt.Tooltip("currency:N", title="Currency")
        unconverted_rows, unconverted_tooltip = _bounded(
            named[named["has_unconverted_amount"]],
            ["year", "currency"],
            "amount",
            each=[year, donor, own, currency],
            summed=[year, count, own, currency],
        )
        parts.append(
            alt.Chart(unconverted_rows)
            .mark_bar()
            .encode(
                x=alt.X("year:O", title="Year (start of the donation)", scale=alt.Scale(domain=years)),
                y=alt.Y("sum(donations):Q", title="Donations (count)", axis=alt.Axis(tickMinStep=1)),
                color=alt.Color("currency:N", title="Amount with no USD rate, in", scale=alt.Scale(scheme="greys")),
                tooltip=unconverted_tooltip,
            )
            .properties(
                width=_width(years),
                height=90,
                title="Donations whose amount has no known USD rate (count, not converted)",
            )
        )
    chart = alt.vconcat(*parts).resolve_scale(color="independent")
    return _spec(chart, figures, "Money: donations in US dollars by donor country", *notes)


def books_given(figures: Figures) -> dict[str, Any] | None:
    """(3) Gifts: books given per year by donor country."""
    books = figures.donations[(figures.donations["donation_type"] == "books") & figures.donations["quantity"].notna()]
    if books.empty:
        return None
    data = books.assign(donor_country_label=books["donor_country_name"] + " (" + books["donor_country"] + ")")
    year, books_tip = alt.Tooltip("year:O", title="Year"), alt.Tooltip("quantity:Q", title="Books", format=",")
    data, tooltip = _bounded(
        data,
        ["year", "donor_country_label"],
        "quantity",
        each=[year, alt.Tooltip("donor:N", title="Donor"), alt.Tooltip("project:N", title="Project"), books_tip],
        summed=[
            year,
            alt.Tooltip("donor_country_label:N", title="Donor country"),
            alt.Tooltip("donations:Q", title="Gifts", format=","),
            books_tip,
        ],
    )
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title="Year (start of the donation)", scale=alt.Scale(domain=_years(data["year"]))),
            y=alt.Y("sum(quantity):Q", title="Books (count)", axis=alt.Axis(format=",d")),
            color=alt.Color("donor_country_label:N", title="Donor country"),
            tooltip=tooltip,
        )
        .properties(
            width=_width(_years(data["year"])),
            height=200,
        )
    )
    return _spec(
        chart,
        figures,
        "Gifts: books given per year",
        "a yearly programme is counted in the year it started, with the yearly figure reported",
    )


def memberships_timeline(figures: Figures) -> dict[str, Any] | None:
    """(4) Memberships: which library belongs to which organization, since when."""
    members = figures.memberships
    if members.empty:
        return None
    notes = ["a bar runs from the year joined to the year left, or to the build date while in force"]
    if len(members) > MEMBERSHIPS_SHOWN:
        notes.append(
            f"showing {MEMBERSHIPS_SHOWN} of {len(members):,} memberships: those in force, the latest joined first"
            " (every one is in marts.fct_membership)"
        )
        members = members.sort_values(["is_active", "joined"], ascending=False, na_position="last").head(
            MEMBERSHIPS_SHOWN
        )
    until = (figures.built_at or dt.datetime.now(dt.UTC)).date()
    data = pd.DataFrame(
        {
            "membership": members["library"] + " in " + members["organization"],
            "organization_name": members["organization_name"],
            "membership_type": members["membership_type"].fillna("not stated"),
            "joined": [d.date().isoformat() for d in pd.to_datetime(members["joined"])],
            "until": [
                (until if pd.isna(left) else pd.Timestamp(left).date()).isoformat() for left in members["left_on"]
            ],
            "since": ["since " + str(int(y)) if not pd.isna(y) else "since ?" for y in members["joined_year"]],
            "state": ["in force" if active else "ended" for active in members["is_active"]],
        }
    )
    base = alt.Chart().encode(  # the data on the layer, as for the national libraries' pairs
        y=alt.Y("membership:N", title=None, sort=alt.EncodingSortField("joined"), axis=alt.Axis(labelLimit=420)),
        tooltip=[
            alt.Tooltip("membership:N", title="Membership"),
            alt.Tooltip("organization_name:N", title="Organization"),
            alt.Tooltip("membership_type:N", title="Type"),
            alt.Tooltip("joined:T", title="Joined", format="%Y"),
            alt.Tooltip("state:N", title="State"),
        ],
    )
    bars = base.mark_bar(height=14).encode(
        x=alt.X("joined:T", title="Year", axis=alt.Axis(format="%Y")),
        x2="until:T",
        color=alt.Color("membership_type:N", title="Membership type"),
    )
    labels = base.mark_text(align="left", dx=4, color="white", fontSize=11).encode(x="joined:T", text="since:N")
    chart = alt.layer(bars, labels, data=data).properties(width=WIDTH - 180, height=alt.Step(24))
    return _spec(chart, figures, "Memberships: which library belongs to which organization, since when", *notes)
