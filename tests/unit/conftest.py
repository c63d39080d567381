"""The unit tests' throwaway database and in-memory Twilio (a module may define its own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from clienteling_setup.crypto import SecretBox
from clienteling_setup.db.all_models import Base
from clienteling_setup.db.session import make_engine, make_sessionmaker
from clienteling_setup.unit_of_work import UnitsOfWork
from tests.fakes import FakeMessagingGateway


@pytest.fixture
def uows(tmp_path: Path) -> Iterator[UnitsOfWork]:
    url = f"sqlite:///{tmp_path / 'unit.db'}"
    schema = create_engine(url)
    Base.metadata.create_all(schema)
    schema.dispose()  # Python 3.13 warns about a SQLite connection left to the collector
    engine = make_engine(url)
    yield UnitsOfWork(make_sessionmaker(engine), SecretBox([SecretBox.generate_key()]))
    engine.dispose()


@pytest.fixture
def twilio() -> FakeMessagingGateway:
    return FakeMessagingGateway()
