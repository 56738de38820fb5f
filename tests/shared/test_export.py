"""Adapters as standard artefacts: public base ids, export to a Hub-ready folder, model cards, push."""

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from shared import adapters
from shared.errors import LorasuiteError
from shared.export import export_adapter, push_adapter
from shared.home import data_dir
from shared.models import resolve

PUBLIC = "sentence-transformers/all-MiniLM-L6-v2"
SHIPPED = sorted(p.parent for p in data_dir("adapters").glob("*/*/meta.json"))


def _run_snippet(folder: Path, base_location: str, monkeypatch) -> None:
    """Run the card's usage snippet from inside the folder, the base id pointed at local files."""
    code = re.search(r"```python\n(.*?)```", (folder / "README.md").read_text(), re.S).group(1)
    code = re.sub(r'BASE = "[^"]+"', f"BASE = {base_location!r}", code)
    monkeypatch.chdir(folder)
    exec(compile(code, "usage-snippet", "exec"), {})


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_adapters_name_the_public_base_and_have_a_card(folder):
    config = json.loads((folder / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == PUBLIC
    card = (folder / "README.md").read_text()
    assert "More Information Needed" not in card and "site-packages" not in card and "/work/" not in card
    assert f"base_model: {PUBLIC}" in card and "## Training data" in card and "license" in card.lower()
    meta = adapters.read_meta(folder)
    if meta["task"] in ("classify", "tag"):
        assert json.loads((folder / "labels.json").read_text()) == meta["labels"]


def test_public_id_resolves_offline_to_the_packaged_weights(monkeypatch):
    monkeypatch.delenv("LORASUITE_ONLINE", raising=False)
    packaged = resolve("minilm")
    assert packaged.public_id == PUBLIC
    for name in (PUBLIC, "all-MiniLM-L6-v2", PUBLIC.lower()):
        ref = resolve(name)
        assert ref.location == packaged.location and ref.public_id == PUBLIC


@pytest.mark.slow
def test_backbone_loads_every_shipped_adapter(minilm):
    keys = [minilm.load(p.parent.name, p.name) for p in SHIPPED]
    assert minilm.classify(["I still have not received my new card"], "support/intent")[0].label == "card_arrival"
    assert len(set(keys)) == len(SHIPPED)


@pytest.mark.slow
def test_exported_shipped_classifier_loads_with_plain_peft(tmp_path, minilm, monkeypatch):
    import torch
    from huggingface_hub import ModelCard
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    from shared.models import pool

    out = export_adapter(adapters.find("support", "intent"), tmp_path / "intent")
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == PUBLIC and config["task_type"] == "FEATURE_EXTRACTION"
    assert ModelCard.load(out / "README.md").data.base_model == PUBLIC
    location = resolve("minilm").location
    model = PeftModel.from_pretrained(AutoModel.from_pretrained(location), str(out)).eval()
    head, head_config = load_file(str(out / "head.safetensors")), json.loads((out / "head_config.json").read_text())
    texts = ["I lost my card", "how do I top up by bank transfer?"]
    batch = AutoTokenizer.from_pretrained(location)(texts, padding=True, truncation=True, return_tensors="pt",
                                                    max_length=head_config["max_length"])
    with torch.no_grad():
        logits = pool(model(**batch).last_hidden_state, batch["attention_mask"]) @ head["linear.weight"].T + head["linear.bias"]
    probs = torch.softmax(logits / head_config["temperature"], -1).numpy()
    _, expected = minilm.classify_probs(texts, minilm.load("support", "intent"))
    assert np.allclose(probs, expected, atol=1e-4)
    _run_snippet(out, location, monkeypatch)


def test_tiny_bert_adapter_saves_exports_and_loads_with_peft(tmp_path, tiny_bert, monkeypatch):
    import torch
    from peft import PeftModel
    from transformers import AutoModel

    from shared.backbone import Backbone
    from shared.classifier import train_classifier
    from shared.settings import LoraSettings

    trained = train_classifier(["good", "great", "bad", "awful"] * 2, ["pos", "pos", "neg", "neg"] * 2,
                               LoraSettings(epochs=1, batch_size=4, max_length=8), model=tiny_bert)
    path = adapters.save("core", "tiny", trained)
    assert json.loads((path / "adapter_config.json").read_text())["base_model_name_or_path"] == tiny_bert  # a path
    assert (path / "head_config.json").exists() and "More Information Needed" not in (path / "README.md").read_text()
    out = export_adapter(path, tmp_path / "export", base_model="my-org/tiny-bert", repo_id="me/tiny")
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == "my-org/tiny-bert"
    assert 'snapshot_download("me/tiny")' in (out / "README.md").read_text()
    model = PeftModel.from_pretrained(AutoModel.from_pretrained(tiny_bert), str(out)).eval()
    backbone = Backbone(tiny_bert)
    key = backbone.load("core", "tiny")
    batch = backbone.tokenizer(["good"], return_tensors="pt")
    with torch.no_grad(), backbone._lock:
        _, active = backbone._activate(key)
        with active:
            assert torch.allclose(model(**batch).last_hidden_state, backbone.model(**batch).last_hidden_state, atol=1e-5)
    _run_snippet(out, tiny_bert, monkeypatch)
    with pytest.raises(LorasuiteError, match="not empty"):
        export_adapter(path, out)
    assert export_adapter(path, out, overwrite=True) == out


def test_export_refuses_an_incomplete_adapter(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "meta.json").write_text(json.dumps({"task": "classify"}))
    with pytest.raises(LorasuiteError, match="adapter_model.safetensors"):
        export_adapter(tmp_path / "bad", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_push_needs_the_network_opt_in(monkeypatch):
    monkeypatch.delenv("LORASUITE_ONLINE", raising=False)
    with pytest.raises(LorasuiteError, match="LORASUITE_ONLINE=1"):
        push_adapter(adapters.find("sentiment", "finance"), "me/finance")


def test_push_creates_the_repo_and_uploads_the_export(monkeypatch):
    import huggingface_hub

    calls = {}

    class FakeApi:
        def __init__(self, token=None):
            calls["token"] = token

        def create_repo(self, repo_id, **kwargs):
            calls["create"] = (repo_id, kwargs)
            return f"https://huggingface.co/{repo_id}"

        def upload_folder(self, repo_id, folder_path, **kwargs):
            calls["files"] = sorted(os.listdir(folder_path))
            calls["card"] = (Path(folder_path) / "README.md").read_text()

    monkeypatch.setenv("LORASUITE_ONLINE", "1")
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    url = push_adapter(adapters.find("sentiment", "finance"), "me/finance", token="hf_x")
    assert url == "https://huggingface.co/me/finance" and calls["token"] == "hf_x"
    assert calls["create"] == ("me/finance", {"repo_type": "model", "private": False, "exist_ok": True})
    assert {"adapter_config.json", "adapter_model.safetensors", "head.safetensors", "head_config.json",
            "README.md"} <= set(calls["files"])
    assert 'snapshot_download("me/finance")' in calls["card"] and "MIT" in calls["card"]
    with pytest.raises(LorasuiteError, match="OWNER/NAME"):
        push_adapter(adapters.find("sentiment", "finance"), "finance")
