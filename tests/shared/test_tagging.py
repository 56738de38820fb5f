"""Token tagging: sub-token alignment, decoding, entity scoring, and the head surviving save/load."""

from __future__ import annotations

import numpy as np
import pytest

from shared.conll import Sentence
from shared.entities import chunks, entity_report, format_entity_report, tag_set, to_iob2
from shared.errors import LorasuiteError
from shared.settings import LoraSettings
from shared.tagging import IGNORE, align_labels, decode_tags, encode_words, split_words, text_entities

LABELS = tag_set(["ORG", "PER"])  # O B-ORG I-ORG B-PER I-PER


def test_first_sub_token_carries_the_label_the_rest_are_ignored(tiny_bert):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    words = ["Lorasuite", "hires", "Zyxwvutsrq"]
    enc = encode_words(tokenizer, [words], 64)
    word_ids = enc.word_ids(0)
    labels = align_labels(word_ids, [1, 0, 3])
    pieces = enc.tokens(0)
    assert pieces[0] == "[CLS]" and pieces[-1] == "[SEP]" and labels[0] == labels[-1] == IGNORE
    assert word_ids.count(0) > 1 and word_ids.count(2) > 1  # both rare words are split
    for w, label in enumerate([1, 0, 3]):
        positions = [i for i, x in enumerate(word_ids) if x == w]
        assert labels[positions[0]] == label
        assert all(labels[i] == IGNORE for i in positions[1:])
    assert align_labels([None, 0, 0, 1, 1, 1, None], [5, 6]) == [IGNORE, 5, IGNORE, 6, IGNORE, IGNORE, IGNORE]


def test_split_words_spans_are_exact_substrings():
    text = "J.P. Morgan's  U.S. unit paid $3.5bn to AT&T, café-owner  Zoë\tsaid."
    words = split_words(text)
    assert all(text[s:e] == w for w, s, e in words)
    assert [w for w, _, _ in words] == ["J.P.", "Morgan", "'s", "U.S.", "unit", "paid", "$3.5bn", "to",
                                        "AT&T", ",", "café-owner", "Zoë", "said", "."]
    assert [w for w, _, _ in split_words('"(NYSE:MLI)" McDonald’s: £20.50. Booking.com. LVMH/Tiffany')] == [
        '"', "(", "NYSE:MLI", ")", '"', "McDonald", "’s", ":", "£20.50", ".", "Booking.com", ".", "LVMH", "/", "Tiffany"]
    assert [w for w, _, _ in split_words("B. Riley and Acme Inc.'s deal, see https://t.co/x/y.")] == [
        "B.", "Riley", "and", "Acme", "Inc.", "'s", "deal", ",", "see", "https://t.co/x/y", "."]


def test_viterbi_never_starts_an_entity_with_i():
    probs = np.array([[0.6, 0.0, 0.0, 0.0, 0.4], [0.1, 0.0, 0.0, 0.0, 0.9]])  # O then I-PER, I-PER
    tags, chosen = decode_tags(probs, LABELS)
    assert tags in (["O", "O"], ["B-PER", "I-PER"]) and len(chosen) == 2
    probs = np.array([[0.1, 0.0, 0.0, 0.8, 0.1], [0.2, 0.0, 0.0, 0.1, 0.7], [0.9, 0.0, 0.0, 0.0, 0.1]])
    tags, chosen = decode_tags(probs, LABELS)
    assert tags == ["B-PER", "I-PER", "O"] and chosen == pytest.approx([0.8, 0.7, 0.9])


def test_text_entities_give_offsets_into_the_input_and_mean_scores():
    text = "  Goldman Sachs hires Ann Lee."
    words = split_words(text)  # Goldman Sachs hires Ann Lee .
    probs = np.zeros((len(words), len(LABELS)))
    for i, (label, p) in enumerate([("B-ORG", 0.9), ("I-ORG", 0.7), ("O", 1.0), ("B-PER", 0.6), ("I-PER", 0.8),
                                    ("O", 1.0)]):
        probs[i, LABELS.index(label)] = p
        probs[i, 0] += 1 - p
    found = text_entities(text, words, probs, LABELS)
    assert found == [{"text": "Goldman Sachs", "type": "ORG", "start": 2, "end": 15, "score": 0.8},
                     {"text": "Ann Lee", "type": "PER", "start": 22, "end": 29, "score": 0.7}]
    assert all(text[e["start"]:e["end"]] == e["text"] for e in found)


def test_chunks_follow_conlleval():
    assert chunks(["B-ORG", "I-ORG", "O", "I-PER", "I-PER", "B-PER", "I-ORG"]) == [
        ("ORG", 0, 2), ("PER", 3, 5), ("PER", 5, 6), ("ORG", 6, 7)]
    assert to_iob2(["I-ORG", "I-ORG", "O", "I-LOC", "B-LOC"]) == ["B-ORG", "I-ORG", "O", "B-LOC", "B-LOC"]


def test_entity_report_counts_an_entity_only_if_span_and_type_match():
    gold = [["B-ORG", "I-ORG", "O", "B-PER"], ["B-LOC", "O"]]
    pred = [["B-ORG", "O", "O", "B-PER"],  # ORG span too short: wrong; PER right
            ["B-ORG", "O"]]  # right span, wrong type: wrong
    report = entity_report(gold, pred)
    assert report["micro"]["precision"] == pytest.approx(1 / 3)
    assert report["micro"]["recall"] == pytest.approx(1 / 3)
    assert report["per_type"]["PER"]["f1"] == 1.0
    assert report["per_type"]["ORG"] == pytest.approx({"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1,
                                                       "predicted": 2})
    assert report["per_type"]["LOC"]["support"] == 1 and report["per_type"]["LOC"]["recall"] == 0.0
    assert report["macro_f1"] == pytest.approx(1 / 3)
    assert "micro avg" in format_entity_report(report)
    assert entity_report(gold, gold)["micro"]["f1"] == 1.0


TRAIN = [Sentence("Acme hired Bob Stone today".split(), ["B-ORG", "O", "B-PER", "I-PER", "O"], 1),
         Sentence("Bob Stone left Acme Corp".split(), ["B-PER", "I-PER", "O", "B-ORG", "I-ORG"], 2),
         Sentence("nothing here at all".split(), ["O", "O", "O", "O"], 3)] * 6


@pytest.fixture(scope="module")
def trained(tiny_bert):
    from shared.tagging import train_tagger

    settings = LoraSettings(epochs=4, lr=2e-2, batch_size=6, max_length=16, early_stopping_patience=0)
    return train_tagger(TRAIN, settings, model=tiny_bert, dev=TRAIN[:3])


def test_training_records_the_tag_set_and_dev_metrics(trained):
    assert trained.meta["task"] == "tag" and trained.meta["labels"] == LABELS
    assert 0.0 <= trained.meta["metrics"]["dev_f1"] <= 1.0
    assert trained.meta["trainable_params"] < trained.meta["total_params"]
    assert set(trained.head_state) == {"linear.weight", "linear.bias", "shape.weight"}  # word shapes on by default
    assert trained.meta["word_shape"] is True and trained.meta["shapes"][1] == "upper"


def test_tag_predictions_survive_save_and_load_through_the_backbone(trained, tiny_bert):
    from shared import adapters
    from shared.backbone import Backbone
    from shared.tagging import word_probs

    sentences = [s.tokens for s in TRAIN[:3]] + [["Acme"], []]
    before = word_probs(sentences, trained.tokenizer, trained.task.logits, len(LABELS))
    adapters.save("ner", "tiny", trained)
    backbone = Backbone(tiny_bert)
    key = backbone.load("ner", "tiny")
    labels, after = backbone.tag_probs(sentences, key)
    assert labels == LABELS
    for b, a in zip(before, after, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    texts = ["Acme hired Bob Stone today", "  Bob  Stone left Acme Corp!", ""]
    entities = backbone.tag(texts, key)
    assert len(entities) == 3 and entities[2] == []
    assert sum(map(len, entities)) > 0
    for text, found in zip(texts, entities, strict=True):
        for e in found:
            assert text[e["start"]:e["end"]] == e["text"] and e["type"] in ("ORG", "PER") and 0 < e["score"] <= 1
    with pytest.raises(LorasuiteError, match="not a classifier"):
        backbone.classify(["x"], key)
    with pytest.raises(LorasuiteError, match="no adapter ner/missing"):
        backbone.tag(["x"], "ner/missing")


def test_shipped_tag_adapters_find_entities_with_the_real_minilm(minilm):
    texts = ["Goldman Sachs downgrades Boeing, says Reuters", "I paid £20.50 at Tesco yesterday with my Visa card"]
    orgs = minilm.tag(texts[:1], minilm.load("ner", "orgs"))[0]
    assert {e["text"] for e in orgs} >= {"Goldman Sachs", "Boeing"} and {e["type"] for e in orgs} == {"ORG"}
    slots = {e["type"]: e["text"] for e in minilm.tag(texts[1:], minilm.load("support", "slots"))[0]}
    assert slots == {"AMOUNT": "£20.50", "MERCHANT": "Tesco", "DATE": "yesterday", "CARD_TYPE": "Visa card"}
