"""One base model, several adapters, many threads: each call gets its own adapter's answer."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from shared import adapters
from shared.backbone import Backbone
from shared.classifier import train_classifier
from shared.errors import LorasuiteError
from shared.settings import LoraSettings

FAST = dict(epochs=2, lr=5e-3, batch_size=8, max_length=16, early_stopping_patience=0)


@pytest.fixture(scope="module")
def two_adapters(tiny_bert, tmp_path_factory):
    root = tmp_path_factory.mktemp("registry")
    mood = train_classifier(["good", "fine day", "awful", "bad day"] * 3, ["pos", "pos", "neg", "neg"] * 3,
                            LoraSettings(**FAST), model=tiny_bert)
    topic = train_classifier(["card lost", "card stolen", "pay rent", "send money", "top up", "add cash"] * 2,
                             ["card", "card", "transfer", "transfer", "topup", "topup"] * 2,
                             LoraSettings(**FAST, seed=7), model=tiny_bert)
    return adapters.save("a", "mood", mood, root=root), adapters.save("b", "topic", topic, root=root)


def test_threads_with_two_adapters_get_their_own_results(tiny_bert, two_adapters):
    backbone = Backbone(tiny_bert)
    backbone.add_adapter("mood", two_adapters[0])
    backbone.add_adapter("topic", two_adapters[1])
    texts = ["my card is gone", "what a good day", "send money home", "terrible"]
    expected = {key: backbone.classify_probs(texts, key)[1] for key in ("mood", "topic")}
    base = backbone.encode(texts)

    def call(i):
        key = ("mood", "topic", None)[i % 3]
        if key is None:
            return key, backbone.encode(texts)
        labels, probs = backbone.classify_probs(texts, key)
        return key, (labels, probs)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(call, range(60)))
    for key, value in results:
        if key is None:
            assert np.allclose(value, base, atol=1e-6)
        else:
            labels, probs = value
            assert labels == (["neg", "pos"] if key == "mood" else ["card", "topup", "transfer"])
            assert np.allclose(probs, expected[key], atol=1e-6)


def test_adapter_changes_embeddings_only_when_active(tiny_bert, two_adapters):
    backbone = Backbone(tiny_bert)
    plain = backbone.encode(["hello there"])
    backbone.add_adapter("mood", two_adapters[0])
    assert np.allclose(backbone.encode(["hello there"]), plain, atol=1e-6)
    assert not np.allclose(backbone.encode(["hello there"], adapter="mood"), plain, atol=1e-4)
    assert np.allclose(np.linalg.norm(plain, axis=1), 1.0, atol=1e-5)


def test_unknown_or_damaged_adapter_is_a_clear_error(tiny_bert, two_adapters, tmp_path):
    backbone = Backbone(tiny_bert)
    with pytest.raises(LorasuiteError, match="names no app|no adapter"):
        backbone.classify_probs(["x"], "nope")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "meta.json").write_text('{"task": "classify"}')
    with pytest.raises(LorasuiteError, match="cannot be loaded"):
        backbone.add_adapter("broken", broken)


def test_real_minilm_matches_sentence_transformers(minilm):
    """Our pooling reproduces sentence-transformers' encode for the default model."""
    from sentence_transformers import SentenceTransformer

    texts = ["I lost my card yesterday", "How do I top up by bank transfer?"]
    reference = SentenceTransformer(minilm.ref.location, device="cpu").encode(texts, normalize_embeddings=True)
    assert np.allclose(minilm.encode(texts), reference, atol=1e-5)
