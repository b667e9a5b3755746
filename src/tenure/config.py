"""Configuration from environment variables or a `.env` file (operations.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tenure.domain.destinations import IPNetwork, parse_networks


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TENURE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///tenure.db"
    smtp_url: str | None = None
    mail_from: str = "tenure@localhost"
    secret_key: str | None = None
    log_format: Literal["console", "json"] = "console"
    max_body_bytes: int = Field(1024 * 1024, ge=1)  # larger request bodies are 413, before authentication
    retention_days: int = Field(90, ge=1)  # delivered and failed notices older than this are pruned
    # CIDR list of non-public networks that partners' webhooks may still target.
    webhook_allowed_networks: str = ""
    # Accounts per transaction when the worker expands a partner's cascade (services/cascades.py).
    cascade_batch: int = Field(default=5000, ge=1)

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)  # a typo is an error at start-up, not a silently open (or shut) door
        return value

    @property
    def allowed_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.webhook_allowed_networks)


def load_settings() -> Settings:
    return Settings()
