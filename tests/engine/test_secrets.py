"""Namespace secrets and variables in the database: encryption at rest, inheritance, environment fallback."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, SQLModel, select

from engine.config import Settings
from engine.core.progress import context_for
from engine.identity.crypto import DecryptionFailed, SecretKeyMissing, generate_key, key_from_text, load_key
from engine.services import execution_start, snapshots
from engine.services.flow_deploy import deploy_flow
from engine.store.database import session_scope
from engine.store.tables import NamespaceSecret, NamespaceVariable
from engine.tasks.context import RunContext
from engine.workspace import secrets, variables

KEY = key_from_text(generate_key())
OTHER_KEY = key_from_text("another passphrase, long enough to be a real one")


def _resolver(session: Session, namespace: str, key=KEY) -> secrets.SecretResolver:
    resolver = secrets.secret_resolver(session, namespace)
    resolver._key = lambda: key  # the installation's key, without touching the environment
    return resolver


def test_migration_creates_the_tables_as_the_models_declare(database):
    with database.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    ours = [d for d in diff if "namespace_variable" in str(d) or "namespace_secret" in str(d)]
    assert ours == []


def test_stored_ciphertext_does_not_contain_the_value_and_decrypts_back(database):
    value = "pa55-w0rd-that-is-unique"
    with session_scope(database) as session:
        secrets.set_secret(session, "acme", "DB_PASSWORD", value, "ana", key=KEY)
    with Session(database) as session:
        row = session.exec(select(NamespaceSecret)).one()
        stored = " ".join(str(v) for v in row.model_dump().values())
        assert value not in stored and row.key_id == KEY.key_id and row.updated_by == "ana"
        assert KEY.decrypt(row.ciphertext, row.key_id) == value
        assert _resolver(session, "acme")("DB_PASSWORD") == value


def test_setting_again_replaces_and_listing_gives_names_only(database):
    with session_scope(database) as session:
        secrets.set_secret(session, "acme", "B", "first-value", key=KEY)
        secrets.set_secret(session, "acme", "A", "other-value", key=KEY)
        secrets.set_secret(session, "acme.sales", "C", "child-value", key=KEY)
    with session_scope(database) as session:
        secrets.set_secret(session, "acme", "B", "second-value", key=KEY)
    with Session(database) as session:
        assert secrets.list_secret_names(session, "acme") == ["A", "B"]
        assert _resolver(session, "acme")("B") == "second-value"
    with session_scope(database) as session:
        assert secrets.delete_secret(session, "acme", "B") and not secrets.delete_secret(session, "acme", "B")
    with Session(database) as session:
        assert secrets.list_secret_names(session, "acme") == ["A"]


def test_invalid_secret_name_is_refused(database):
    with session_scope(database) as session, pytest.raises(ValueError, match="invalid secret name"):
        secrets.set_secret(session, "acme", "has space", "x", key=KEY)


def test_inheritance_nearest_namespace_first(database, monkeypatch):
    monkeypatch.setenv("LANNER_SECRET_TOKEN", "from-env")
    with session_scope(database) as session:
        secrets.set_secret(session, "acme", "TOKEN", "from-acme", key=KEY)
        secrets.set_secret(session, "acme.sales", "TOKEN", "from-sales", key=KEY)
        secrets.set_secret(session, "acme.sales.eu", "TOKEN", "from-eu", key=KEY)
        secrets.set_secret(session, "acme", "ONLY_TOP", "top-value", key=KEY)
    with Session(database) as session:
        assert _resolver(session, "acme.sales.eu")("TOKEN") == "from-eu"
        assert _resolver(session, "acme.sales.us")("TOKEN") == "from-sales"
        assert _resolver(session, "acme.hr")("TOKEN") == "from-acme"
        assert _resolver(session, "acme.sales.eu")("ONLY_TOP") == "top-value"
        assert _resolver(session, "acmex")("TOKEN") == "from-env"  # a prefix is not a parent
        assert _resolver(session, "other.acme")("TOKEN") == "from-env"


def test_environment_fallback_and_missing_secret_message(database, monkeypatch):
    monkeypatch.setenv("LANNER_SECRET_API_KEY", "env-value")
    monkeypatch.delenv("LANNER_SECRET_NOPE", raising=False)
    with Session(database) as session:
        resolver = _resolver(session, "acme.sales")
        assert resolver("api-key") == "env-value"
        with pytest.raises(secrets.SecretMissing, match=r"secret 'NOPE' is not set .*acme\.sales.*LANNER_SECRET_NOPE"):
            resolver("NOPE")


def test_wrong_key_is_a_clear_error(database):
    with session_scope(database) as session:
        secrets.set_secret(session, "acme", "TOKEN", "the-value", key=KEY)
    with Session(database) as session:
        with pytest.raises(DecryptionFailed, match=rf"encrypted with key {KEY.key_id}.*is key {OTHER_KEY.key_id}"):
            _resolver(session, "acme", OTHER_KEY)("TOKEN")
        row = session.exec(select(NamespaceSecret)).one()
    with pytest.raises(DecryptionFailed, match="cannot be decrypted"):  # no key id to compare: Fernet itself refuses
        OTHER_KEY.decrypt(row.ciphertext)


def test_keys_from_text_and_from_the_development_file(tmp_path: Path):
    fernet_key = generate_key()
    assert key_from_text(fernet_key).decrypt(key_from_text(fernet_key).encrypt("x")) == "x"
    phrase = key_from_text("correct horse battery staple")
    assert phrase.key_id == key_from_text("correct horse battery staple").key_id != OTHER_KEY.key_id
    development = Settings(home=tmp_path / "home", database_url="sqlite://", redis_url=None)
    first = load_key(development)
    key_file = tmp_path / "home" / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_key(development).key_id == first.key_id  # generated once, then read
    assert load_key(Settings(home=tmp_path, database_url="", redis_url=None, secret_key=fernet_key)).key_id == (
        key_from_text(fernet_key).key_id
    )
    with pytest.raises(SecretKeyMissing, match="LANNER_SECRET_KEY"):
        load_key(Settings(home=tmp_path / "prod", database_url="", redis_url=None, mode="production"))
    assert not (tmp_path / "prod").exists()


def test_variables_inherit_and_the_flow_overrides(database):
    with session_scope(database) as session:
        variables.set_variable(session, "acme", "region", "global", "ana")
        variables.set_variable(session, "acme", "retries", 3)
        variables.set_variable(session, "acme.sales", "region", "eu")
        variables.set_variable(session, "acme.sales", "owner", "sales-team")
        variables.set_variable(session, "acme.sales", "limits", {"max": 5})
        deploy_flow(
            session,
            "id: report\nnamespace: acme.sales\nvariables: {owner: me}\n"
            "tasks:\n  - {id: a, type: return, value: '{{ vars.region }}'}\n",
        )
    with session_scope(database) as session:
        variables.set_variable(session, "acme", "retries", 4)  # setting again replaces
    with Session(database) as session:
        assert [(v.name, v.value) for v in variables.list_variables(session, "acme")] == [
            ("region", "global"),
            ("retries", 4),
        ]
        assert variables.inherited_variables(session, "acme.sales.eu") == {
            "region": "eu",
            "retries": 4,
            "owner": "sales-team",
            "limits": {"max": 5},
        }
        assert variables.inherited_variables(session, "acmex") == {}
    with session_scope(database) as session:
        execution = execution_start.create_execution(session, "acme.sales", "report")
    with Session(database) as session:
        snapshot = snapshots.load_snapshot(session, execution.id, dt.datetime.now(dt.UTC))
    seen = context_for(snapshot)["vars"]
    assert seen == {"region": "eu", "retries": 4, "owner": "me", "limits": {"max": 5}}
    with session_scope(database) as session:
        assert variables.delete_variable(session, "acme.sales", "region")
        assert not variables.delete_variable(session, "acme.sales", "region")
    with Session(database) as session:
        assert variables.inherited_variables(session, "acme.sales")["region"] == "global"
        assert session.exec(select(NamespaceVariable).where(NamespaceVariable.name == "limits")).one().value == {
            "max": 5
        }


def test_masking_reaches_every_text_in_outputs(tmp_path: Path):
    ctx = RunContext("t", "e", tmp_path, tmp_path, lambda: False, secrets={"hunter22"})
    outputs = {"a": "pw=hunter22", "b": ["hunter22", 3, None], "c": {"d": "x hunter22 y"}, "n": 1}
    assert ctx.mask_value(outputs) == {"a": "pw=****", "b": ["****", 3, None], "c": {"d": "x **** y"}, "n": 1}
