"""Task kinds 2 and 3 on tiny models: the bi-encoder and causal-LM SFT train, save and serve."""

import numpy as np

from shared import adapters
from shared.backbone import Backbone
from shared.biencoder import train_biencoder
from shared.causal import train_causal
from shared.settings import LoraSettings

PAIRS = [("lost card", "freeze your card in the app"), ("card stolen", "freeze your card in the app"),
         ("send money abroad", "international transfers take 1-5 days"),
         ("transfer overseas", "international transfers take 1-5 days"),
         ("add money", "top up by bank transfer"), ("top up", "top up by bank transfer")] * 4


def test_biencoder_trains_saves_and_serves(tiny_bert):
    settings = LoraSettings(epochs=6, lr=1e-2, batch_size=6, max_length=16, early_stopping_patience=0)
    trained = train_biencoder(PAIRS, settings, model=tiny_bert, dev=PAIRS[:6])
    losses = [h["loss"] for h in trained.history]
    assert np.mean(losses[-4:]) < np.mean(losses[:4])
    assert trained.meta["metrics"]["dev_recall_at_10"] is not None
    path = adapters.save("recommender", "tiny", trained)
    backbone = Backbone(tiny_bert)
    key = backbone.load("recommender", "tiny")
    texts = ["lost card", "freeze your card in the app", "top up by bank transfer"]
    direct = trained.task.encode(texts, normalize_embeddings=True)  # the trained SentenceTransformer
    assert np.allclose(backbone.encode(texts, adapter=key, max_length=16), direct, atol=1e-5)  # save/load identity
    assert not np.allclose(backbone.encode(texts, adapter=key), backbone.encode(texts), atol=1e-4)
    assert (path / "adapter_model.safetensors").exists() and not (path / "head.safetensors").exists()


def test_causal_sft_trains_saves_and_generates(tiny_causal):
    pairs = [("Question: fee for cards?", "Cards cost 5 pounds."), ("Question: hours?", "Open 7 to 23.")] * 4
    settings = LoraSettings(target_modules="all-linear", epochs=10, lr=1e-2, batch_size=4, max_length=64,
                            early_stopping_patience=0)
    trained = train_causal(pairs, settings, model=tiny_causal)
    losses = [h["loss"] for h in trained.history]
    assert losses[-1] < losses[0]
    adapters.save("support", "gen", trained)
    backbone = Backbone(tiny_causal, causal=True)
    key = backbone.load("support", "gen")
    text = backbone.generate("Question: fee for cards?", adapter=key, max_new_tokens=6)
    assert isinstance(text, str) and text == "".join(backbone.stream("Question: fee for cards?", key, 6))
