"""An installed wheel carries its migrations: `tenure init` works outside a source checkout (issue 15).

The wheel is built from a copy of the sources and installed, without its
dependencies, into a fresh virtual environment in a temporary folder; the
dependencies come from this test's own environment through a `.pth` line (a
plain path, so the editable install of `tenure` there is not picked up). The
test checks that `tenure` is imported from the fresh environment, so only the
wheel's files can have answered.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from tenure.adapters.db import migrate

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _build_wheel(tmp: Path) -> Path:
    """Build from a copy, so the build leaves nothing (build/, *.egg-info) in the worktree."""
    source = tmp / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    shutil.copytree(ROOT / "src", source / "src", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp / "dist", source, cwd=tmp)
    (wheel,) = (tmp / "dist").glob("tenure-*.whl")
    return wheel


def _fresh_venv(tmp: Path, wheel: Path) -> Path:
    venv = tmp / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp)
    purelib = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp).strip())
    ours = {sysconfig.get_path("purelib"), *site.getsitepackages()}
    (purelib / "dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    return venv


def test_the_wheel_ships_its_migrations_and_tenure_init_runs_from_it(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"tenure/migrations/env.py", "tenure/migrations/versions/0001_initial_schema.py"} <= names

    venv = _fresh_venv(tmp_path, wheel)
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _run(venv / "bin" / "python", "-c", "import tenure; print(tenure.__file__)", cwd=work)
    assert Path(where.strip()).is_relative_to(venv)

    database = work / "tenure.db"
    env = {key: value for key, value in os.environ.items() if not key.startswith("TENURE_")}
    env["TENURE_DATABASE_URL"] = f"sqlite:///{database}"
    command = ("init", "--operator-name", "Wheel Works", "--admin-email", "ops@example.com")
    out = _run(venv / "bin" / "tenure", *command, "--admin-password", "a long password", cwd=work, env=env)
    assert "initialised" in out

    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head
        assert connection.execute(text("SELECT name FROM accounts WHERE kind = 'operator'")).scalar_one() == (
            "Wheel Works"
        )
    engine.dispose()
