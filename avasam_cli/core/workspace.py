"""A seller's workspace: settings, a lazily opened engine, units of work, a clock."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from avasam_cli.core import clock
from avasam_cli.core.config import Settings
from avasam_cli.core.lightdb import LightDB

if TYPE_CHECKING:  # SQLAlchemy is imported only when a command needs the engine
    from sqlalchemy import Engine

    from avasam_cli.core.db import UnitOfWork


class Workspace:
    def __init__(
        self, settings: Settings, *, check_schema: bool = True, create: bool = False
    ) -> None:
        self.settings = settings
        self._check_schema = check_schema
        self._create = create  # only `avasam init` (and `db upgrade`) create a database
        self._engine: Engine | None = None
        self._light: dict[bool, LightDB] = {}

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from avasam_cli.core.db import ensure_current_schema, make_engine

            engine = make_engine(self.settings.database_url, create=self._create)
            if self._check_schema:
                try:
                    ensure_current_schema(engine)
                except Exception:
                    engine.dispose()
                    raise
            self._engine = engine
        return self._engine

    @property
    def actor(self) -> str:
        return self.settings.actor

    @property
    def timezone(self) -> ZoneInfo:
        return self.settings.timezone

    def uow(self, *, read_only: bool = False) -> UnitOfWork:
        from avasam_cli.core.db import UnitOfWork

        return UnitOfWork(self.engine, read_only=read_only)

    def light(self, *, write: bool = False) -> LightDB:
        """The light path (core/lightdb.py): the driver alone, for fast reads (and, with
        `write`, the job records' single-statement writes)."""
        if write not in self._light:
            self._light[write] = LightDB(self.settings.database_url, write=write)
        return self._light[write]

    def now(self) -> datetime:
        return clock.utcnow(self.settings.pinned_now)

    def close(self) -> None:
        for light in self._light.values():
            light.close()
        self._light.clear()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
