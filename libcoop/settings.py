"""Every path and environment variable libcoop uses, read here and nowhere else.

Nothing is read when a module is imported: the functions below read the environment when a
command or an Airflow task asks (a worker process serves many tasks, and tests change the
environment between runs). ``resolve_paths`` gathers what a run needs into one ``Paths``.

Where the project lives: ``LIBCOOP_PROJECT_ROOT``; else the source checkout the package was
imported from (``make``, an editable install); else the current folder (an installed wheel). The
dbt project and the Great Expectations context come from that root when it holds them, else from
the copies the wheel carries under ``libcoop/project/`` (pyproject.toml, tool.hatch).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from libcoop.target import Lake

# The Airflow asset that stands for the drop folder: drop_folder_watch updates it, the nightly DAG listens.
DROP_FOLDER_ASSET = "libcoop_drop_folder"
DEFAULT_ALERT_CONN_ID = "libcoop_alerts"
DEFAULT_WATCH_MINUTES = 15

_PACKAGE = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE / "project"  # what the wheel carries (the dbt project, the GX context)


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


def project_root() -> Path:
    """The folder that holds raw/ and warehouse/ by default (see the module's docstring)."""
    if root := _env("LIBCOOP_PROJECT_ROOT"):
        return Path(root).absolute()
    checkout = _PACKAGE.parent
    if (checkout / "dbt_project" / "dbt_project.yml").is_file():
        return checkout
    return Path.cwd()


def _project_part(name: str) -> Path:
    in_root = project_root() / name
    return in_root if in_root.is_dir() or not (_BUNDLED / name).is_dir() else _BUNDLED / name


def dbt_project_dir() -> Path:
    """The dbt project to build; LIBCOOP_DBT_PROJECT_DIR points elsewhere (tests use a copy)."""
    return Path(_env("LIBCOOP_DBT_PROJECT_DIR") or _project_part("dbt_project"))


def expectations_dir() -> Path:
    """The Great Expectations file context; LIBCOOP_EXPECTATIONS_DIR points elsewhere."""
    return Path(_env("LIBCOOP_EXPECTATIONS_DIR") or _project_part("expectations"))


def alert_conn_id() -> str:
    """The Airflow connection failure alerts go through (libcoop.notify)."""
    return _env("LIBCOOP_ALERT_CONN_ID") or DEFAULT_ALERT_CONN_ID


def watch_interval() -> timedelta:
    """How often drop_folder_watch looks at the drop folder."""
    return timedelta(minutes=int(_env("LIBCOOP_WATCH_INTERVAL_MINUTES") or DEFAULT_WATCH_MINUTES))


def lake_data_path() -> str | None:
    """Where a DuckLake target keeps its Parquet files (LIBCOOP_LAKE_DATA_PATH)."""
    return _env("LIBCOOP_LAKE_DATA_PATH")


def lake_work_dir() -> Path:
    """Where a DuckLake target's runs build and keep the last published build (LIBCOOP_WORK_DIR)."""
    return Path(_env("LIBCOOP_WORK_DIR") or project_root() / "warehouse" / "lake-work").absolute()


def lease_ttl_seconds() -> float | None:
    """After how long an Airflow run's unrenewed lease counts as dead (libcoop.warehouse.runlock)."""
    seconds = _env("LIBCOOP_LEASE_TTL_SECONDS")
    return float(seconds) if seconds else None


# DuckDB's memory ceiling for every large query of a run (dbt's models and tests, the
# validation's summaries, the dashboard): past it DuckDB spills to disk beside the file instead of
# growing, so a run's memory does not grow with the rows. profiles.yml reads the same variable.
DEFAULT_DUCKDB_MEMORY_LIMIT = "300MB"


def duckdb_memory_limit() -> str:
    """LIBCOOP_DUCKDB_MEMORY_LIMIT, a size in DuckDB's words (a number and a unit, as the default)."""
    return _env("LIBCOOP_DUCKDB_MEMORY_LIMIT") or DEFAULT_DUCKDB_MEMORY_LIMIT


def warehouse_config(**settings: object) -> dict[str, object]:
    """DuckDB's configuration for a connection to a build that runs large queries: the memory
    ceiling, and ``settings``."""
    return {"memory_limit": duckdb_memory_limit(), **settings}


def point_dbt_at(database: Path) -> None:
    """The variables libcoop writes, for dbtRunner in this process: profiles.yml reads the
    database with ``env_var('LIBCOOP_DBT_DATABASE')`` and the memory ceiling with
    ``env_var('LIBCOOP_DUCKDB_MEMORY_LIMIT')``; LIBCOOP_DBT_TEST_CHANGED_FILES=1 lets the
    generic tests of an incremental build look at the last load's files only
    (dbt_project/macros/tests_on_changed_files.sql; a --full-refresh build tests every row)."""
    os.environ["LIBCOOP_DBT_DATABASE"] = str(database)
    os.environ["LIBCOOP_DUCKDB_MEMORY_LIMIT"] = duckdb_memory_limit()
    os.environ["LIBCOOP_DBT_TEST_CHANGED_FILES"] = "1"


def airflow_port() -> int:
    """The port of the local Airflow UI (`make airflow`, libcoop.local_airflow)."""
    return int(_env("AIRFLOW_PORT") or 8080)


def dashboard_font() -> Path | None:
    """The font file the dashboard subsets, when LIBCOOP_DASHBOARD_FONT names one."""
    font = _env("LIBCOOP_DASHBOARD_FONT")
    return Path(font) if font else None


def keep_great_expectations_offline() -> None:
    """Great Expectations reads GX_ANALYTICS_ENABLED when it sets up analytics (the context file
    says analytics_enabled: false too): never phone home, whatever the caller's environment."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def __getattr__(name: str) -> Path:
    # The constants of earlier versions, computed when asked for (never at import).
    if name == "PROJECT_ROOT":
        return project_root()
    if name == "DBT_PROJECT_DIR":
        return dbt_project_dir()
    if name == "EXPECTATIONS_DIR":
        return expectations_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Paths:
    """The folders and files one run works with."""

    raw_dir: Path
    warehouse: Path
    expectations_dir: Path
    # The DuckLake to publish to (LIBCOOP_WAREHOUSE=ducklake:postgres:...); ``warehouse`` is then the
    # local copy of the last published build, which the next run starts from (libcoop/warehouse/lake.py).
    lake: Lake | None = None

    @property
    def incoming(self) -> Path:
        return self.raw_dir / "incoming"

    @property
    def reports(self) -> Path:
        return self.raw_dir / "reports"

    @property
    def build_dir(self) -> Path:
        """Where runs build their private copy before it is published."""
        return self.warehouse.parent / ".build"

    @property
    def cache_dir(self) -> Path:
        """What runs compute once and reuse while the libraries that made it stay the same
        (the dashboard's chart scripts, its cut font): ``user_cache_dir()``, shared by every
        warehouse of the user, so a new warehouse's first run finds them made. Removing it only
        costs the next run the time to redo them."""
        return user_cache_dir()

    @property
    def gx_context_dir(self) -> Path:
        """This warehouse's own Great Expectations context (its results and Data Docs store),
        copied from ``expectations_dir``; never the checkout's, which every warehouse shares."""
        return self.warehouse.parent / ".gx"


def user_cache_dir() -> Path:
    """LIBCOOP_CACHE_DIR, else ``$XDG_CACHE_HOME/libcoop``, else ``~/.cache/libcoop``. Its entries are
    named after everything they are made from (libcoop.dashboard.cache), so warehouses can share it."""
    if chosen := _env("LIBCOOP_CACHE_DIR"):
        return Path(chosen).absolute()
    base = _env("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).absolute() / "libcoop"


def resolve_paths(raw_dir: str | Path | None = None, warehouse: str | Path | None = None) -> Paths:
    """Apply the contract's defaults: arguments, then environment variables, then the project root."""
    raw = raw_dir or _env("LIBCOOP_RAW_DIR") or project_root() / "raw"
    wh = warehouse or _env("LIBCOOP_WAREHOUSE") or project_root() / "warehouse" / "cooperation.duckdb"
    lake = None
    if str(wh).startswith("ducklake:"):
        from libcoop.target import parse_lake

        lake = parse_lake(str(wh), lake_data_path(), lake_work_dir())
        wh = lake.local_dir / "cooperation.duckdb"  # the target's own cache folder in LIBCOOP_WORK_DIR
    return Paths(
        raw_dir=Path(raw).absolute(),
        warehouse=Path(wh).absolute(),
        expectations_dir=expectations_dir().absolute(),
        lake=lake,
    )


# --- the coordinators' door (libcoop.door) and the mail after each run ----------------------------
DEFAULT_DOOR_MAX_UPLOAD_MB = 50


def door_secret_key() -> str | None:
    """The key that signs the door's session cookies (LIBCOOP_DOOR_SECRET_KEY); no default: the
    door refuses to start without one."""
    return _env("LIBCOOP_DOOR_SECRET_KEY")


def door_dir(warehouse: Path | None = None) -> Path:
    """The door's own store (accounts, proposed and accepted aliases): LIBCOOP_DOOR_DIR, else
    door/ beside the warehouse (warehouse/ is not in git: an upgrade of the code never touches it)."""
    if folder := _env("LIBCOOP_DOOR_DIR"):
        return Path(folder).absolute()
    return (warehouse or resolve_paths().warehouse).parent / "door"


def door_max_upload_bytes() -> int:
    """The largest file the door accepts (LIBCOOP_DOOR_MAX_UPLOAD_MB, default 50)."""
    return int(float(_env("LIBCOOP_DOOR_MAX_UPLOAD_MB") or DEFAULT_DOOR_MAX_UPLOAD_MB) * 1024 * 1024)


def door_https_only() -> bool:
    """Send the session cookie over HTTPS only (LIBCOOP_DOOR_HTTPS_ONLY=1 behind a TLS proxy)."""
    return (_env("LIBCOOP_DOOR_HTTPS_ONLY") or "").lower() in ("1", "true", "yes")


def door_url() -> str | None:
    """The door's public address, for the links in mails (LIBCOOP_DOOR_URL, e.g. https://door.example.org)."""
    url = _env("LIBCOOP_DOOR_URL")
    return url.rstrip("/") if url else None


def smtp_url() -> str | None:
    """Where the mails after each run go out (LIBCOOP_SMTP_URL: smtp://[user:password@]host:port,
    smtp+starttls://... or smtps://...); without it no mail is sent."""
    return _env("LIBCOOP_SMTP_URL")


def mail_from() -> str:
    """The sender of the mails after each run (LIBCOOP_MAIL_FROM)."""
    return _env("LIBCOOP_MAIL_FROM") or "libcoop@localhost"


# --- operating it (libcoop.warehouse.builds, dags/cooperation_nightly.py) ----------------------

DEFAULT_KEEP_BUILDS = 7
DEFAULT_SCHEDULE_CRON = "0 2 * * *"
DEFAULT_SCHEDULE_TIMEZONE = "Asia/Ho_Chi_Minh"


def keep_builds() -> int:
    """How many published builds are kept for rollback, with their pages (LIBCOOP_KEEP_BUILDS)."""
    return max(1, int(_env("LIBCOOP_KEEP_BUILDS") or DEFAULT_KEEP_BUILDS))


DEFAULT_LAKE_MAINTENANCE_CRON = "0 3 * * 0"


def lake_maintenance_cron() -> str:
    """When ducklake_maintenance runs (LIBCOOP_LAKE_MAINTENANCE_CRON, default Sundays 03:00), in schedule_timezone()."""
    return _env("LIBCOOP_LAKE_MAINTENANCE_CRON") or DEFAULT_LAKE_MAINTENANCE_CRON


def schedule_cron() -> str:
    """When cooperation_nightly runs by the clock (LIBCOOP_SCHEDULE_CRON), in schedule_timezone()."""
    return _env("LIBCOOP_SCHEDULE_CRON") or DEFAULT_SCHEDULE_CRON


def schedule_timezone() -> str:
    """The time zone of the schedule (LIBCOOP_SCHEDULE_TIMEZONE, an IANA name): 02:00 where the
    coordinators are asleep, not 02:00 UTC, which is morning in East and South-East Asia."""
    return _env("LIBCOOP_SCHEDULE_TIMEZONE") or DEFAULT_SCHEDULE_TIMEZONE


def lineage_transport() -> str:
    """Where the OpenLineage events of a run go (libcoop.lineage): LIBCOOP_LINEAGE_TRANSPORT is
    ``file`` (the default: ``lineage_dir()``), ``http`` (OPENLINEAGE_URL, e.g. Marquez), ``console``
    or ``none``. OPENLINEAGE_URL alone means ``http``."""
    chosen = (_env("LIBCOOP_LINEAGE_TRANSPORT") or ("http" if _env("OPENLINEAGE_URL") else "file")).lower()
    if chosen not in ("file", "http", "console", "none"):
        raise ValueError(f"LIBCOOP_LINEAGE_TRANSPORT={chosen!r}: use file, http, console or none")
    return chosen


def lineage_http_config() -> dict[str, object]:
    """The HTTP transport's settings: OPENLINEAGE_URL, OPENLINEAGE_ENDPOINT (default api/v1/lineage),
    OPENLINEAGE_API_KEY (sent as a bearer token when set)."""
    url = _env("OPENLINEAGE_URL")
    if url is None:
        raise ValueError("LIBCOOP_LINEAGE_TRANSPORT=http needs OPENLINEAGE_URL (e.g. http://localhost:5000)")
    config: dict[str, object] = {"url": url, "endpoint": _env("OPENLINEAGE_ENDPOINT") or "api/v1/lineage"}
    if key := _env("OPENLINEAGE_API_KEY"):
        config["auth"] = {"type": "api_key", "apiKey": key}
    return config


def lineage_dir(warehouse: Path) -> Path:
    """The folder of the file transport, one ``<run id>.jsonl`` per run: LIBCOOP_LINEAGE_DIR, else
    ``lineage/`` beside the warehouse file."""
    return Path(_env("LIBCOOP_LINEAGE_DIR") or warehouse.absolute().parent / "lineage")


def lineage_namespace() -> str:
    """The OpenLineage namespace of libcoop's jobs and the prefix of its datasets' (LIBCOOP_LINEAGE_NAMESPACE)."""
    return _env("LIBCOOP_LINEAGE_NAMESPACE") or "libcoop"


# --- monitors (libcoop.quality.monitors): warnings only, never blocking a publish ------------------

DEFAULT_FRESHNESS_DAYS = 365
DEFAULT_VOLUME_RATIO = 0.5
DEFAULT_VOLUME_HISTORY = 5


def freshness_days(country_code: str, kind: str) -> int:
    """How many days a country may send no new or changed file of a kind before a warning: the
    most specific of LIBCOOP_FRESHNESS_DAYS_<CC>_<KIND>, _<KIND>, _<CC>, then LIBCOOP_FRESHNESS_DAYS
    (default 365), e.g. LIBCOOP_FRESHNESS_DAYS_VISITS=180, LIBCOOP_FRESHNESS_DAYS_KR_DONATIONS=730.
    0 turns the warning off."""
    cc, k = country_code.upper(), kind.upper()
    for name in (f"_{cc}_{k}", f"_{k}", f"_{cc}", ""):
        if (value := _env(f"LIBCOOP_FRESHNESS_DAYS{name}")) is not None:
            return max(0, int(value))
    return DEFAULT_FRESHNESS_DAYS


def volume_ratio() -> float:
    """LIBCOOP_VOLUME_RATIO (default 0.5): a new version of a file with fewer rows than this share
    of the version it replaces is a warning, and so is a night's rows of a country's kind below
    this share of the smallest earlier night or above the largest divided by it."""
    ratio = float(_env("LIBCOOP_VOLUME_RATIO") or DEFAULT_VOLUME_RATIO)
    if not 0 < ratio < 1:
        raise ValueError(f"LIBCOOP_VOLUME_RATIO={ratio}: use a share between 0 and 1, e.g. 0.5")
    return ratio


def volume_history() -> int:
    """How many earlier nights of a country's kind the night's rows are compared with, at least
    (LIBCOOP_VOLUME_HISTORY, default 5): with fewer, nothing is said."""
    return max(1, int(_env("LIBCOOP_VOLUME_HISTORY") or DEFAULT_VOLUME_HISTORY))
