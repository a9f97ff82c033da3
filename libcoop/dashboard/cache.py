"""What the dashboard makes the same way run after run, kept in the user's cache (Paths.cache_dir:
``~/.cache/libcoop`` unless LIBCOOP_CACHE_DIR or XDG_CACHE_HOME say otherwise).

An entry's name carries everything it is made from (versions, inputs' digest), so a name found
is the right content; an entry is written whole or not at all (two runs may write it at once),
and a cache that cannot be written only costs the time to make the entry again."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


def cached(cache_dir: Path | None, name: str, make: Callable[[], bytes]) -> bytes:
    """The bytes kept under ``name`` in ``cache_dir``; else ``make()``, kept there for next time."""
    path = cache_dir / name if cache_dir is not None else None
    if path is not None and path.is_file():
        return path.read_bytes()
    data = make()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{name}.{uuid.uuid4().hex[:8]}.tmp")
            partial.write_bytes(data)
            partial.replace(path)
        except OSError as error:
            log.warning("%s could not be cached in %s: %s", name, cache_dir, error)
    return data
