"""``kmbase db init`` and ``kmbase db upgrade``: create a store, or bring it to this library's
schema (``kmbase db rebuild-work-queue`` is in ``_queues``)."""

from __future__ import annotations

from ._command import Command
from ._group import command_group
from ._options import (
    DbOption,
    JsonOption,
    LangOption,
)

__all__ = ["db_app"]

db_app = command_group("db", "创建或升级数据库 / Create or upgrade the database.")


@db_app.command("init")
def db_init(db: DbOption = None, as_json: JsonOption = False, lang: LangOption = "zh") -> None:
    """创建数据库并应用迁移 / Create the database and apply every migration.

    Prints the applied migrations (``--json``: ``migrations``).
    """
    _migrate(db, lang, create=True)


def _migrate(db: str | None, lang: str, *, create: bool) -> None:
    command = Command(lang)
    store = command.store(db, create=create)
    version = tuple(getattr(store, "schema_version", ()))
    store.close()
    command.finish({"migrations": list(version)}, " ".join(version) if version else "memory")


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None, as_json: JsonOption = False, lang: LangOption = "zh") -> None:
    """升级数据库到本库的结构版本 / Upgrade the database to this library's schema.

    Opening a store applies pending migrations; a database with a newer schema is refused
    (exit 2), and so is one that does not exist (create it with ``kmbase db init``).
    """
    _migrate(db, lang, create=False)
