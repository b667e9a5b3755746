"""Run Alembic migrations from code (`tenure migrate`, `tenure init`, the tests).

The migrations ship inside the package (`tenure/migrations`), so an installed
wheel can create and upgrade its schema; Alembic finds them by package name,
not by where a source checkout happens to be.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

SCRIPT_LOCATION = "tenure:migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("path_separator", "os")
    return config


def upgrade(engine: Engine) -> None:
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()


def check(engine: Engine) -> None:
    """Raise if the tables and the migrations disagree (`alembic check`)."""
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.check(config)
