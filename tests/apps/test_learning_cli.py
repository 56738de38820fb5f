"""``lorasuite sentiment|support relabel`` and ``lorasuite retrain``: the command-line contracts."""

from __future__ import annotations

import json

import pytest

from apps.cli import main
from shared import labels, registry
from shared.storage import shared_database
from tests.retrain_helpers import make_champion, rows, write_csv


@pytest.fixture(autouse=True)
def _polite(monkeypatch):
    """The verbs lower their own priority; in-process tests keep the test runner's."""
    monkeypatch.setattr("apps.learning.lower_priority", lambda threads: None)


def _out(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_sentiment_relabel_prints_counts_and_last_label_wins(tmp_path, capsys):
    data = tmp_path / "labels.csv"
    data.write_text("text,label\nProfit up 5%,positive\nLoss widens,negative\nProfit up 5%,neutral\n")
    assert main(["sentiment", "relabel", "--input", str(data), "--who", "ana"]) == 0
    assert _out(capsys) == {"labels": 3, "new": 2}
    assert main(["sentiment", "relabel", "--input", str(data)]) == 0
    assert _out(capsys) == {"labels": 3, "new": 0}
    stored = {r.text: (r.label, r.who, r.source) for r in labels.labels(shared_database(), "sentiment", "sentiment")}
    assert stored == {"Profit up 5%": ("neutral", "ana", "cli"), "Loss widens": ("negative", "ana", "cli")}


def test_a_label_outside_the_adapters_set_exits_2_naming_the_row(tmp_path, capsys):
    data = tmp_path / "labels.csv"
    data.write_text("text,label\nProfit up,positive\nShares soar,bullish\n")
    assert main(["sentiment", "relabel", "--input", str(data)]) == 2
    err = capsys.readouterr().err
    assert "row 3" in err and "'bullish'" in err and "negative" in err
    assert labels.labels(shared_database(), "sentiment", "sentiment") == []  # nothing recorded


def test_support_relabel_takes_intents_and_out_of_scope(tmp_path, capsys):
    data = tmp_path / "intents.csv"
    data.write_text("text,intent\nI lost my card,lost_or_stolen_card\nWhat's the weather?,out_of_scope\n")
    assert main(["support", "relabel", "--input", str(data)]) == 0
    assert _out(capsys) == {"labels": 2, "new": 2}
    bad = tmp_path / "bad.csv"
    bad.write_text("text,intent\nI lost my card,lost_card\n")
    assert main(["support", "relabel", "--input", str(bad)]) == 2
    assert "row 2" in capsys.readouterr().err


def test_retrain_without_new_labels_exits_2(capsys):
    assert main(["retrain", "sentiment", "--name", "finance"]) == 2
    assert "no new labels" in capsys.readouterr().err
    assert main(["retrain", "nosuchapp"]) == 2


def test_retrain_writes_the_report_to_the_file_and_stdout(tiny_bert, tmp_path, capsys, lorasuite_home):
    make_champion(tiny_bert, tmp_path)
    (lorasuite_home / "config.toml").write_text('[sentiment]\nadapter = "sentiment/tiny"\ndemo_feeds = false\n'
                                                "[learning]\nepochs = 1\n")
    write_csv(tmp_path / "new.csv", rows(60, 5, ["guidance", "dividend", "tender"]))
    assert main(["sentiment", "relabel", "--input", str(tmp_path / "new.csv")]) == 0
    capsys.readouterr()
    report_path = tmp_path / "R.json"
    assert main(["retrain", "sentiment", "--report", str(report_path)]) == 0
    captured = capsys.readouterr()
    printed, written = json.loads(captured.out), json.loads(report_path.read_text())
    assert printed == written
    assert set(written) == {"app", "name", "champion", "challenger", "promoted", "reason"}
    assert written["app"] == "sentiment" and written["name"] == "tiny" and written["champion"]["version"] == 1
    assert set(written["challenger"]) == {"version", "old_dev", "new_dev"} and written["challenger"]["version"] == 2
    assert "estimated" in captured.err  # the plan and the time estimate come first
    assert registry.resolve("sentiment/tiny@2").status == ("champion" if written["promoted"] else "rejected")
    last = json.loads((lorasuite_home / "learning" / "reports" / "sentiment_tiny_last.json").read_text())
    assert last["details"]["gate"]["ok"] and last["reason"] == written["reason"]


def test_learning_section_sets_the_retrain_recipe():
    from types import SimpleNamespace

    from apps.config import Config, LearningSettings
    from apps.learning import knobs

    got = knobs(SimpleNamespace(config=Config(learning=LearningSettings(epochs=3, lr=1e-3, new_label_weight=1.0))))
    assert (got.epochs, got.lr, got.new_label_weight) == (3, 1e-3, 1.0)
    with pytest.raises(ValueError, match="lr"):
        LearningSettings(lr=0)
