"""The cooperation dashboard: static pages built from the marts with every build, published with it.

``libcoop.dashboard.build`` computes the figures (``figures``, SQL on a read-only connection),
draws the charts (``charts``, Vega-Altair) and writes ``index.html`` and ``countries/<CC>.html``
from the Jinja2 templates, with the Vega scripts and a font subset in ``assets/`` beside them:
the pages work from the file system, offline. The publish swaps a build's dashboard in with its
warehouse file and keeps it with the build for rollback (``libcoop.warehouse.builds``). This
module stays light (no Altair import) so the publication code can use its names.
"""

from __future__ import annotations

from pathlib import Path

DASHBOARD_DIRNAME = "dashboard"
PREVIOUS_DIRNAME = "dashboard.previous"


def dashboard_target(warehouse: Path) -> Path:
    """The published dashboard: ``dashboard/`` beside the warehouse file."""
    return warehouse.parent / DASHBOARD_DIRNAME


def staged_dashboard(build: Path) -> Path:
    """Where a run writes the dashboard of its build: beside the build file, in the run's folder."""
    return build.parent / DASHBOARD_DIRNAME
