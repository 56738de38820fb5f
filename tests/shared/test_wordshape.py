"""Word shapes come from the original text (the uncased tokenizer would lose them)."""

from __future__ import annotations

import numpy as np
import pytest

from shared.wordshape import SHAPES, subtoken_shapes, word_shape


@pytest.mark.parametrize("word,shape", [("IBM", "upper"), ("U.S.", "upper"), ("Apple", "title"), ("shares", "lower"),
                                        ("1999", "digits"), ("3.5%", "digits"), (",", "punct"), ("--", "punct"),
                                        ("iPhone", "mixed"), ("McDonald", "mixed"), ("F-16", "mixed")])
def test_word_shapes(word, shape):
    assert SHAPES[word_shape(word)] == shape


def test_sub_tokens_carry_their_words_shape_and_specials_none(tiny_bert):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    words = ["Goldmansachs", "buys", "IBM"]
    enc = tokenizer([words], is_split_into_words=True)
    assert tokenizer.convert_ids_to_tokens(enc["input_ids"][0])[1] == "goldman"  # lowercased by the tokenizer
    shapes = subtoken_shapes(enc.word_ids(0), words)
    assert shapes[0] == shapes[-1] == 0 and SHAPES[shapes[1]] == SHAPES[shapes[2]] == "title"
    assert SHAPES[shapes[-2]] == "upper"


def test_a_tagger_without_the_shape_feature_still_saves_and_loads(tiny_bert):
    from shared import adapters
    from shared.backbone import Backbone
    from shared.conll import Sentence
    from shared.settings import LoraSettings
    from shared.tagging import train_tagger, word_probs

    train = [Sentence("Acme hired Bob".split(), ["B-ORG", "O", "B-PER"], 1)] * 6
    trained = train_tagger(train, LoraSettings(epochs=2, lr=2e-2, batch_size=6, word_shape=False), model=tiny_bert)
    assert set(trained.head_state) == {"linear.weight", "linear.bias"} and trained.meta["word_shape"] is False
    adapters.save("ner", "plain", trained)
    backbone = Backbone(tiny_bert)
    labels, after = backbone.tag_probs([["Acme", "hired", "BOB"]], backbone.load("ner", "plain"))
    before = word_probs([["Acme", "hired", "BOB"]], trained.tokenizer, trained.task.logits, len(labels))
    np.testing.assert_allclose(after[0], before[0], atol=1e-5)
