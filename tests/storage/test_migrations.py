"""Migrations: one head, the models and the migrations agree, upgrade/downgrade keep data, backups."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from signoff.domain.errors import SignoffError
from signoff.storage import migrate, open_database
from signoff.storage.schema import complete_metadata


def test_there_is_exactly_one_migration_head():
    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert len(heads) == 1, heads
    assert migrate.head_revision() == heads[0]
    assert heads[0] == migrate.SCHEMA_REVISION, "update SCHEMA_REVISION in storage/migrate.py"


def test_the_migrated_schema_is_exactly_the_models(db_url):
    open_database(db_url).close()
    engine = sqlalchemy.create_engine(db_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, complete_metadata())
    engine.dispose()
    assert differences == []


def test_upgrade_and_downgrade_keep_the_data(blank_db_url):
    db = open_database(blank_db_url)
    with db.transaction() as uow:
        model = uow.models.add(name="churn", version="1", description="kept")
        sha = uow.evidence.put_bytes(b"evidence bytes")
        uow.audit.append(actor="alice", action="model.added", entity=f"model_version:{model.id}")
    db.close()

    engine = sqlalchemy.create_engine(blank_db_url)
    migrate.downgrade(engine, "0001_core")
    assert migrate.current_revision(engine) == "0001_core"
    assert "prediction_log" not in sqlalchemy.inspect(engine).get_table_names()
    engine.dispose()

    db = open_database(blank_db_url)  # upgrades again
    with db.transaction(write=False) as uow:
        assert uow.models.find("churn", "1").description == "kept"
        assert uow.evidence.read_bytes(sha) == b"evidence bytes"
        assert uow.audit.verify().ok
        assert uow.logs.list() == []
    db.close()

    engine = sqlalchemy.create_engine(blank_db_url)
    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    remaining = set(sqlalchemy.inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert remaining == set()


def test_an_older_sqlite_file_is_backed_up_before_it_is_migrated(tmp_path):
    path = tmp_path / "signoff.db"
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    migrate.upgrade(engine, "0001_core")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO model_version (name, version, description, source, created_at, attributes) "
            "VALUES ('churn', '1', '', 'manual', '2026-01-01 00:00:00.000000', '{}')"
        )
    engine.dispose()

    open_database(f"sqlite:///{path}").close()

    backups = sorted(tmp_path.glob("signoff.db.bak-0001_core-*"))
    assert len(backups) == 1
    with sqlite3.connect(backups[0]) as backup:
        assert backup.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001_core",)]
        assert backup.execute("SELECT name FROM model_version").fetchall() == [("churn",)]
    with sqlite3.connect(path) as migrated:
        assert migrated.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (migrate.head_revision(),)
        ]

    open_database(f"sqlite:///{path}").close()  # already current: no second backup
    assert len(list(tmp_path.glob("signoff.db.bak-*"))) == 1


def test_a_new_database_needs_no_backup(tmp_path):
    open_database(f"sqlite:///{tmp_path / 'new.db'}").close()
    assert list(tmp_path.glob("*.bak-*")) == []


def test_a_database_from_a_newer_signoff_is_refused(db_url):
    engine = sqlalchemy.create_engine(db_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    engine.dispose()
    with pytest.raises(SignoffError, match="newer version of Signoff"):
        open_database(db_url)


def test_sqlite_pragmas(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 's.db'}")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 30000
    db.close()


def test_default_location_is_the_user_data_folder_and_signoff_db_overrides_it(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    db = open_database()
    assert Path(db.engine.url.database) == tmp_path / "data" / "Signoff" / "signoff.db"
    db.close()
    monkeypatch.setenv("SIGNOFF_DB", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    db = open_database()
    assert Path(db.engine.url.database) == tmp_path / "elsewhere.db"
    db.close()


def test_every_area_module_of_tables_belongs_to_the_complete_schema():
    """A new ``*_tables.py`` left out of ``AREA_MODULES`` would be missing from migrations' comparison."""
    from pathlib import Path

    from signoff.storage import schema

    found = {p.stem for p in Path(schema.__file__).parent.glob("*_tables.py")}
    assert found == set(schema.AREA_MODULES)
    assert {"review", "signature", "registry_snapshot", "inventory_record", "workspace_certificate"} <= set(
        schema.complete_metadata().tables
    )
