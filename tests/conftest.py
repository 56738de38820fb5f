"""Shared fixtures: state in a temp dir, tiny offline models, the real MiniLM when needed.

- every test gets its own ``LORASUITE_HOME`` (autouse), so nothing touches ./var;
- ``tiny_bert`` / ``tiny_causal``: random 2-layer models saved to a temp dir (built offline
  in seconds, with MiniLM's tokenizer) for logic tests that must not depend on a real model;
- ``minilm``: the real all-MiniLM-L6-v2 backbone, loaded once per session, for behaviour that
  depends on real embeddings;
- ``ctx`` / ``make_ctx(**sections)``: an AppContext (typed config, database, backbone, registry).
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def lorasuite_home(tmp_path, monkeypatch):
    from shared.storage import close_shared_databases

    home = tmp_path / "home"
    monkeypatch.setenv("LORASUITE_HOME", str(home))
    monkeypatch.delenv("LORASUITE_DB_URL", raising=False)
    yield home
    close_shared_databases()  # each test's home has its own database URL


@pytest.fixture(scope="session")
def app_specs():
    """The installed apps (entry points of lorasuite.apps)."""
    from apps.spec import discover

    return discover()


@pytest.fixture
def make_ctx(app_specs):
    """``make_ctx(support={...}, suite={...})``: an AppContext on a validated config (this test's home)."""
    from apps.config import validate
    from apps.context import AppContext

    def make(**sections):
        return AppContext.create(specs=app_specs, config=validate(sections, None, app_specs))
    return make


@pytest.fixture
def ctx(make_ctx):
    """An AppContext with every default."""
    return make_ctx()


def _minilm_tokenizer():
    from transformers import AutoTokenizer

    from shared.models import resolve

    return AutoTokenizer.from_pretrained(resolve("minilm").location)


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> str:
    """Directory of a random 2-layer BERT (hidden 32) with MiniLM's tokenizer."""
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-bert")
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(path)
    _minilm_tokenizer().save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def tiny_causal(tmp_path_factory) -> str:
    """Directory of a random 2-layer Llama (hidden 32) with MiniLM's tokenizer ([SEP] as EOS)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-causal")
    tokenizer = _minilm_tokenizer()
    tokenizer.eos_token = "[SEP]"
    config = LlamaConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         num_key_value_heads=2, intermediate_size=64, max_position_embeddings=256,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                         bos_token_id=tokenizer.cls_token_id)
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def minilm():
    """The real MiniLM backbone (process-wide, loaded once)."""
    from shared.backbone import get_backbone

    return get_backbone("minilm")


@pytest.fixture
def pg(monkeypatch):
    """A Database on an emptied PostgreSQL schema, also set as LORASUITE_DB_URL for the apps.

    Needs ``LORASUITE_TEST_PG_URL`` (.ci/run starts Debian's PostgreSQL and sets it)."""
    import os

    from sqlalchemy import create_engine, text

    from shared.storage import Database, close_shared_databases

    url = os.environ.get("LORASUITE_TEST_PG_URL")
    if not url:
        pytest.skip("LORASUITE_TEST_PG_URL not set (.ci/run sets it)")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    monkeypatch.setenv("LORASUITE_DB_URL", url)
    close_shared_databases()  # an engine cached before the schema was dropped believes it is migrated
    db = Database(url)
    yield db
    db.close()
