"""`lorasuite train|eval classify` and `lorasuite adapters`: end to end, and every bad input."""

import json

import pytest

from apps.cli import main
from shared.home import state_dir

ROWS = [("shares soar", "pos"), ("profits jump", "pos"), ("stock rallies", "pos"),
        ("shares sink", "neg"), ("losses widen", "neg"), ("stock tumbles", "neg")] * 3


def _csv(path, rows, header="text,label"):
    path.write_text(header + "\n" + "".join(f"{t},{label}\n" for t, label in rows), encoding="utf-8")
    return path


def _train(tmp_path, tiny_bert, data, *extra):
    return main(["train", "classify", "--data", str(data), "--name", "m", "--model", tiny_bert, "--epochs", "2",
                 "--batch-size", "8", "--max-length", "16", *extra])


def test_train_then_eval_end_to_end(tmp_path, tiny_bert, capsys):
    data, dev = _csv(tmp_path / "train.csv", ROWS), _csv(tmp_path / "dev.csv", ROWS[:6])
    assert _train(tmp_path, tiny_bert, data, "--dev", str(dev)) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["adapter"] == "core/m"
    assert main(["eval", "classify", "--name", "m", "--data", str(dev), "--png", str(tmp_path / "cm.png")]) == 0
    printed = capsys.readouterr().out
    assert "macro-F1" in printed and (tmp_path / "cm.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["adapters", "list"]) == 0
    assert "core/m\tv1 of 1\tclassify\thome" in capsys.readouterr().out
    assert main(["adapters", "show", "core", "m"]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["labels"] == ["neg", "pos"] and meta["data_hash"] and meta["settings"]["epochs"] == 2
    assert main(["adapters", "delete", "core", "m"]) == 0


@pytest.mark.parametrize("content,message", [
    (None, "file not found"),
    (b"", "file is empty"),
    (b"text,label\n", "no rows"),
    (b"words,label\na,b\n", "missing column"),
    (b"text,label\nfine,pos\n\xff\xfe bad,neg\n", "row 3: bytes that are not UTF-8"),
    (b"text,label\nfine,pos\n  ,neg\n", "row 3: empty text"),
    (b"text,label\nfine,pos\nok,pos\n", "only one label"),
])
def test_bad_training_file_exits_2_and_writes_nothing(tmp_path, tiny_bert, capsys, content, message):
    data = tmp_path / "train.csv"
    if content is not None:
        data.write_bytes(content)
    assert _train(tmp_path, tiny_bert, data) == 2
    err = capsys.readouterr().err
    assert message in err and str(data) in err and "Traceback" not in err
    assert not any(state_dir("adapters").rglob("meta.json"))


def test_label_seen_only_in_dev_is_refused(tmp_path, tiny_bert, capsys):
    data = _csv(tmp_path / "train.csv", ROWS)
    dev = _csv(tmp_path / "dev.csv", [("flat day", "neutral")])
    assert _train(tmp_path, tiny_bert, data, "--dev", str(dev)) == 2
    assert "label 'neutral' is not in the training file" in capsys.readouterr().err
    assert not any(state_dir("adapters").rglob("meta.json"))


def test_unknown_adapter_and_bad_settings(tmp_path, tiny_bert, capsys):
    assert main(["eval", "classify", "--name", "ghost", "--data", str(_csv(tmp_path / "d.csv", ROWS))]) == 2
    assert "no adapter core/ghost" in capsys.readouterr().err
    assert _train(tmp_path, tiny_bert, _csv(tmp_path / "t.csv", ROWS), "--lr", "-1") == 2
    assert "lr must be > 0" in capsys.readouterr().err
