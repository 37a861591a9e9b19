"""The SQLite database and its companions, instance/ and its secrets: private to their owner."""

from __future__ import annotations

import os
import stat

import pytest

from app.config import Config
from app.db import db, open_database, transaction
from app.migrate import upgrade
from app.models import Landlord


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def permissive_umask():
    """A umask that, left alone, makes files world-readable (0644) and folders 0755."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def bound(tmp_path):
    """Bind the models to a database for the test; unbind (close) afterwards."""
    opened = []

    def bind(database):
        opened.append(database)
        db.initialize(database)
        return database

    yield bind
    for database in opened:
        if not database.is_closed():
            database.close()


def test_a_new_sqlite_database_and_its_companions_are_0600(tmp_path, bound):
    instance = tmp_path / "instance"
    bound(open_database("sqlite:///instance/fixline.db", tmp_path))
    assert mode(instance) == 0o700  # created by open_database
    with db.connection_context():
        upgrade()
        with transaction():
            Landlord.create(name="Lana", email="lana@example.com", phone="+15550001000")
        files = [instance / name for name in ("fixline.db", "fixline.db-wal", "fixline.db-shm",
                                              "fixline.db-writer")]
        assert all(path.exists() for path in files), os.listdir(instance)
        assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}


def test_files_an_older_version_left_readable_are_narrowed(tmp_path, bound):
    name = tmp_path / "old.db"
    for suffix in ("", "-wal", "-shm", "-writer"):
        (tmp_path / f"old.db{suffix}").touch(mode=0o644)
    bound(open_database(f"sqlite:///{name}"))
    for suffix in ("", "-wal", "-shm", "-writer"):
        assert mode(f"{name}{suffix}") == 0o600, suffix


def test_instance_and_generated_secrets_are_private(tmp_path):
    instance = tmp_path / "instance"
    config = Config.from_env({"FIXLINE_INSTANCE_PATH": str(instance)})
    assert config.secret_key and config.dev_webhook_token
    assert mode(instance) == 0o700
    assert mode(instance / "secret_key") == mode(instance / "twilio_auth_token") == 0o600


def test_an_existing_instance_directory_is_narrowed(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    os.chmod(instance, 0o755)
    Config.from_env({"FIXLINE_INSTANCE_PATH": str(instance)})
    assert mode(instance) == 0o700


def test_a_shared_directory_is_left_alone(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # like /tmp
    Config.from_env({"FIXLINE_INSTANCE_PATH": str(shared)})
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o1777
    assert mode(shared / "secret_key") == 0o600
