"""The built wheel works without the checkout: a fresh virtual environment
outside the repository installs it, and ``ecif demo`` finds its code maps and
the sample in the package (the production image does the same)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (outside the checkout) with the wheel built from this checkout."""
    if os.environ.get("CI") != "true" and os.environ.get("ECIF_TEST_WHEEL") != "1":
        pytest.skip("builds and installs the wheel (~40 s): runs under CI=true or "
                    "ECIF_TEST_WHEEL=1")
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                            str(dist), str(REPO)], capture_output=True, text=True)
    shutil.rmtree(REPO / "build", ignore_errors=True)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next(dist.glob("ecif-*.whl"))
    env_dir = base / "venv"
    venv.create(env_dir, with_pip=True)
    pip = subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q",
                          str(wheel)], capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr[-2000:]
    return env_dir


def test_demo_runs_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECIF_")}
    env["ECIF_WORKERS"] = "1"
    run = subprocess.run([str(installed / "bin" / "ecif"), "demo", "--no-serve"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "night day_002" in run.stdout and "precision" in run.stdout
    assert (tmp_path / "ecif-data" / "out" / "demo.db").exists()  # the data dir is here
    import sqlite3

    with sqlite3.connect(tmp_path / "ecif-data" / "out" / "demo.db") as db:  # contract §5
        users = db.execute("SELECT username, role FROM app_user ORDER BY username").fetchall()
    assert users == [("admin1", "admin"), ("approver1", "approver"), ("steward1", "steward"),
                     ("viewer1", "viewer")]
    pages = subprocess.run([str(installed / "bin" / "python"), "-c",
                            "import review_app, pathlib; p = pathlib.Path(review_app.__file__)"
                            ".parent; print((p / 'templates/queue/task.html').exists(), "
                            "(p / 'static/app.js').exists())"],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
    assert pages.stdout.split() == ["True", "True"], pages.stderr  # templates ship in the wheel
    where = subprocess.run([str(installed / "bin" / "python"), "-c",
                            "import ecif, matching.config as c; print(ecif.__file__); "
                            "print(c.DEFAULT_CONFIG_DIR)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
    lines = where.stdout.split()
    assert all(str(REPO) not in line for line in lines), lines  # not the checkout's code
    assert lines[1].endswith("ecif_config")
