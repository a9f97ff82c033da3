# syntax=docker/dockerfile:1
# The libcoop image: Airflow 3 (celery, postgres, redis extras) + dbt + Great Expectations + the project,
# installed with uv from uv.lock. docker-compose.yml runs every Airflow component from it.
#
#   docker compose build
#
# Layout inside the image:
#   /opt/libcoop          the project (libcoop/, dags/, dbt_project/, expectations/) and its .venv
#   /opt/libcoop/raw      the drop folder        (bind-mounted from ./raw by docker-compose.yml)
#   /opt/libcoop/warehouse the published DuckDB  (bind-mounted from ./warehouse)
#   /opt/airflow          AIRFLOW_HOME (logs on a named volume)

FROM python:3.11-slim-bookworm

# The dashboard's font (Chinese, Japanese, Korean and Vietnamese names), cut to each build's pages.
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

# uv, pinned to the version that wrote uv.lock
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /bin/

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/libcoop/.venv \
    PATH=/opt/libcoop/.venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow \
    PYTHONUNBUFFERED=1 \
    GX_ANALYTICS_ENABLED=false \
    DO_NOT_TRACK=1

WORKDIR /opt/libcoop

# 1. the dependencies alone (a cached layer while only the project's code changes)
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

# 2. the project: code, DAGs, dbt project, GE context (editable install: libcoop finds dbt_project/ beside it)
COPY libcoop ./libcoop
COPY dags ./dags
COPY dbt_project ./dbt_project
COPY expectations ./expectations
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev \
    && rm -rf dbt_project/target dbt_project/logs expectations/gx/uncommitted

# Runs as any uid in group 0 (docker-compose.yml uses AIRFLOW_UID:0): group 0 may write where runs write.
RUN useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home airflow \
    && mkdir -p /opt/airflow/logs /opt/libcoop/raw/incoming /opt/libcoop/raw/reports /opt/libcoop/warehouse \
    && chgrp -R 0 /opt/airflow /opt/libcoop/raw /opt/libcoop/warehouse /opt/libcoop/dbt_project /opt/libcoop/expectations \
    && chmod -R g=u /opt/airflow /opt/libcoop/raw /opt/libcoop/warehouse /opt/libcoop/dbt_project /opt/libcoop/expectations
USER 50000:0
# any AIRFLOW_UID works, with or without a passwd entry: Airflow asks getpass for a user name, dbt wants a HOME
ENV USER=airflow \
    HOME=/opt/airflow

ENTRYPOINT ["airflow"]
CMD ["version"]
