"""The door's settings, read through libcoop.settings like every other, into one value."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from libcoop import settings
from libcoop.errors import LibcoopError

MIN_SECRET_CHARS = 32


class DoorMisconfigured(LibcoopError):
    """The door cannot start as configured; the message says what to set."""


@dataclass(frozen=True)
class DoorSettings:
    secret_key: str
    raw_dir: Path
    warehouse: Path
    door_dir: Path
    max_upload_bytes: int = settings.DEFAULT_DOOR_MAX_UPLOAD_MB * 1024 * 1024
    https_only: bool = False
    public_url: str | None = None
    session_hours: int = 8

    def __post_init__(self) -> None:
        if not self.secret_key or len(self.secret_key) < MIN_SECRET_CHARS or self.secret_key.startswith("change-me"):
            raise DoorMisconfigured(
                f"LIBCOOP_DOOR_SECRET_KEY must be set to a random text of at least {MIN_SECRET_CHARS} characters "
                '(e.g. python -c "import secrets; print(secrets.token_urlsafe(48))"); the door has no default key'
            )

    @property
    def incoming(self) -> Path:
        return self.raw_dir / "incoming"

    @property
    def uploads(self) -> Path:
        """Where uploads are received and checked: beside the drop folder, on the same file system
        (a file that would load is renamed into it in one step), never inside it."""
        return self.raw_dir / ".door-uploads"

    @property
    def data_docs(self) -> Path:
        return self.warehouse.parent / "data_docs"

    @property
    def dashboard(self) -> Path:
        return self.warehouse.parent / "dashboard"

    @classmethod
    def from_env(cls) -> DoorSettings:
        paths = settings.resolve_paths()
        return cls(
            secret_key=settings.door_secret_key() or "",
            raw_dir=paths.raw_dir,
            warehouse=paths.warehouse,
            door_dir=settings.door_dir(paths.warehouse),
            max_upload_bytes=settings.door_max_upload_bytes(),
            https_only=settings.door_https_only(),
            public_url=settings.door_url(),
        )
