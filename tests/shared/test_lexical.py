"""shared.lexical: the analyzer and BM25 (bm25s) on inline micro-corpora."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shared.lexical import DEFAULT, Analyzer, Bm25, top_rows

CORPUS = ["freeze a lost card", "exchange rates and fees", "card delivery times",
          "top up by bank transfer", "lost phone and card security"]


def lucene(corpus: list[list[str]], query: list[str], k1: float = 1.5, b: float = 0.75) -> np.ndarray:
    """BM25 (Lucene variant) written out, to check bm25s against."""
    avg = sum(map(len, corpus)) / len(corpus)
    out = np.zeros(len(corpus))
    for term in query:
        df = sum(term in doc for doc in corpus)
        idf = math.log(1 + (len(corpus) - df + 0.5) / (df + 0.5))
        for i, doc in enumerate(corpus):
            tf = doc.count(term)
            out[i] += idf * tf / (tf + k1 * (1 - b + b * len(doc) / avg))
    return out


def test_scores_are_lucene_bm25():
    docs = [DEFAULT(t) for t in CORPUS]
    query = DEFAULT("lost card fees")
    assert np.allclose(Bm25(CORPUS).scores("lost card fees"), lucene(docs, query), atol=1e-6)
    assert np.allclose(Bm25(docs).scores(query), lucene(docs, query), atol=1e-6)  # terms in, same scores


def test_analyzer_stems_drops_stopwords_and_keeps_codes():
    assert DEFAULT("The cards were declined!") == ["card", "declin"]
    assert DEFAULT("Error NW-7734 on my card’s PIN") == ["error", "nw", "7734", "card", "pin"]
    assert Analyzer(stem="plural")("fees, class and gas") == ["fee", "class", "gas"]
    assert Analyzer(stem=str.upper, stopwords=frozenset())("a b") == ["A", "B"]
    assert Analyzer(min_length=3)("an ox ate figs") == ["ate", "fig"]
    with pytest.raises(ValueError, match="stem must be"):
        Analyzer(stem="porter")


def test_unicode_and_odd_input():
    assert DEFAULT("Café crème, naïve ß 日本語 😀 \x00 snake_case") == ["café", "crème", "naïv", "ß", "日本語",
                                                                        "snake", "case"]
    bm25 = Bm25(["café au lait", "", "😀😀", "naïve question"])
    assert bm25.top("CAFÉ") == [(0, pytest.approx(float(bm25.scores("café")[0])))]
    for query in ("", "   ", "😀", "\ud800", "the of and", "zzz unknown"):
        assert not bm25.scores(query).any() and bm25.top(query) == []


def test_empty_and_termless_corpora():
    for corpus in ([], [""], ["the and of", "!!!"]):
        bm25 = Bm25(corpus)
        assert len(bm25) == len(corpus) and bm25.scores("anything").shape == (len(corpus),)
        assert bm25.top("anything") == []


def test_mask_restricts_rows_and_top_is_ordered():
    bm25 = Bm25(CORPUS)
    full = bm25.scores("lost card")
    masked = bm25.scores("lost card", mask=np.array([0, 1, 1, 1, 1]))
    assert masked[0] == 0 and np.allclose(masked[1:], full[1:])
    top = bm25.top("lost card", k=2)
    assert [row for row, _ in top] == [0, 4] and top[0][1] >= top[1][1]
    assert list(top_rows(np.array([0.5, 0.9, 0.5, 0.1]), 3)) == [1, 0, 2]  # ties: lower row first
    assert list(top_rows(np.array([0.2, 0.3]), 5)) == [1, 0] and list(top_rows(np.zeros(0), 3)) == []


def test_save_load_round_trip(tmp_path):
    bm25 = Bm25(CORPUS)
    bm25.save(tmp_path / "bm25")
    again = Bm25.load(tmp_path / "bm25")
    assert len(again) == len(CORPUS)
    assert np.array_equal(again.scores("lost card fees"), bm25.scores("lost card fees"))
    with pytest.raises(ValueError, match="analyzer"):
        Bm25.load(tmp_path / "bm25", Analyzer(stem="plural", name="other"))
    Bm25([""]).save(tmp_path / "empty")
    assert Bm25.load(tmp_path / "empty").top("x") == []
