"""Progress bars: on inside a ``progress`` block (or with ``desc``), tied to the log level, off by env."""

import logging

import numpy as np
import pytest
import torch

from shared.inference import run_batched
from shared.progress import bar, disable, progress


def _tokenizer(texts, **kwargs):
    return {"input_ids": torch.tensor([[len(t)] for t in texts], dtype=torch.float32)}


def _forward(batch):
    return batch["input_ids"] * 2


@pytest.fixture
def forced_on(monkeypatch):
    monkeypatch.setenv("LORASUITE_PROGRESS", "1")


def test_run_batched_shows_a_bar_only_when_asked(forced_on, capsys):
    texts = ["a", "bbb", "cc"] * 10
    out = run_batched(texts, _tokenizer, _forward, batch_size=4)
    assert "embedding" not in capsys.readouterr().err
    with progress("embedding"):
        again = run_batched(texts, _tokenizer, _forward, batch_size=4)
    err = capsys.readouterr().err
    assert "embedding:" in err and "/30" in err
    assert np.array_equal(out, again) and out[:3, 0].tolist() == [2.0, 6.0, 4.0]
    run_batched(texts, _tokenizer, _forward, desc="scoring")
    assert "scoring" in capsys.readouterr().err


def test_bars_follow_the_log_level_and_the_environment(monkeypatch):
    monkeypatch.delenv("LORASUITE_PROGRESS", raising=False)
    logger = logging.getLogger("shared")
    before = logger.level
    try:
        logger.setLevel(logging.WARNING)
        assert disable() is True  # library use without INFO logging: quiet
        logger.setLevel(logging.INFO)
        assert disable() is None  # INFO (the CLI's default): tqdm decides, i.e. a bar on a terminal only
    finally:
        logger.setLevel(before)
    monkeypatch.setenv("LORASUITE_PROGRESS", "0")
    assert disable() is True and bar(range(3)).disable


def test_tagging_and_classify_file_report_progress(forced_on, capsys, tmp_path):
    from apps.sentiment.classify import classify_file

    src = tmp_path / "in.csv"
    src.write_text("text\n" + "".join(f"headline {i} beats estimates\n" for i in range(5)))
    assert classify_file(src, tmp_path / "out.jsonl") == 5
    assert "classifying" in capsys.readouterr().err
    from apps.ner_cli import tag_file

    assert tag_file(src, tmp_path / "tags.jsonl") == 5
    assert "tagging" in capsys.readouterr().err
