"""Shared fixtures: real databases (an SQLite file, and PostgreSQL when configured).

And the one hook that makes CI fail a test skipped for something missing (see
``tests/missing.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from chatbot.db import create_engine_for, migrate
from tests.missing import in_ci, is_missing, missing
from tests.postgres import postgres_schema

POSTGRES_ENV = "CHATBOT_TEST_POSTGRES_URL"


def _postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


_NO_POSTGRES = missing(f"a PostgreSQL URL (${POSTGRES_ENV} is not set)")
_POSTGRES_MARKS = [
    pytest.mark.postgres,
    pytest.mark.skipif(_postgres_url() is None, reason=_NO_POSTGRES),
]


def _postgres_schema() -> Iterator[str]:
    """The URL of a fresh PostgreSQL schema of its own, dropped afterwards."""
    base = _postgres_url()
    assert base is not None
    with postgres_schema(base) as url:
        yield url


def _migrated(url: str) -> Iterator[Engine]:
    engine = create_engine_for(url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=_POSTGRES_MARKS)])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A URL of an empty database of its own: a temp SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'chatbot.db'}"
        return
    yield from _postgres_schema()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the test database with the schema created."""
    yield from _migrated(database_url)


@pytest.fixture(params=[pytest.param("postgresql", marks=_POSTGRES_MARKS)])
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema, for what only PostgreSQL does (row locks, several processes)."""
    yield from _postgres_schema()


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    """An engine on :func:`postgres_url` with the schema created."""
    yield from _migrated(postgres_url)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under ``CI=true`` a skip for something missing is a failure, with the skip's reason."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    skipped_for_want = (
        report.skipped
        and not hasattr(report, "wasxfail")
        and isinstance(report.longrepr, tuple)
        and is_missing(str(report.longrepr[2]))
    )
    if skipped_for_want and in_ci():
        reason = str(report.longrepr[2]).removeprefix("Skipped: ")  # type: ignore[index]
        report.outcome = "failed"
        report.longrepr = f"CI=true, so nothing may be missing; this test skipped: {reason}"
