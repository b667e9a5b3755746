"""Configuration from environment variables or a `.env` file (operations.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TENURE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///tenure.db"
    smtp_url: str | None = None
    mail_from: str = "tenure@localhost"
    secret_key: str | None = None
    log_format: Literal["console", "json"] = "console"
    max_body_bytes: int = Field(1024 * 1024, ge=1)  # larger request bodies are 413, before authentication
    retention_days: int = Field(90, ge=1)  # delivered and failed notices older than this are pruned


def load_settings() -> Settings:
    return Settings()
