"""`lorasuite train ner`, `eval ner` and `ner tag`, run in-process through apps.cli.main."""

from __future__ import annotations

import json

import pytest

from apps.cli import main

SENTENCES = [("Acme hired Bob Stone today", "B-ORG O B-PER I-PER O"),
             ("Bob Stone left Acme Corp", "B-PER I-PER O B-ORG I-ORG"),
             ("nothing here at all", "O O O O")]


def conll(sentences, docstart=True) -> str:
    blocks = ["\n".join(f"{w} NN {t}" for w, t in zip(s.split(), tags.split(), strict=True)) for s, tags in sentences]
    return ("-DOCSTART- -X- O\n\n" if docstart else "") + "\n\n".join(blocks) + "\n"


@pytest.fixture(scope="module")
def trained_home(tiny_bert, tmp_path_factory):
    """One tiny adapter ner/tiny trained through the CLI (shared by the tests of this module)."""
    home = tmp_path_factory.mktemp("ner-home")
    data = home / "train.conll"
    data.write_text(conll(SENTENCES * 4))
    mp = pytest.MonkeyPatch()
    mp.setenv("LORASUITE_HOME", str(home))
    code = main(["train", "ner", "--data", str(data), "--dev", str(data), "--name", "tiny", "--model", tiny_bert,
                 "--epochs", "15", "--lr", "0.02", "--batch-size", "6", "--max-length", "16"])
    mp.undo()
    assert code == 0
    return home


@pytest.fixture()
def home(trained_home, monkeypatch):
    monkeypatch.setenv("LORASUITE_HOME", str(trained_home))
    return trained_home


def test_train_saves_a_tag_adapter_with_its_tag_set(home, capsys):
    assert main(["adapters", "show", "ner", "tiny"]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["task"] == "tag" and meta["labels"] == ["O", "B-ORG", "I-ORG", "B-PER", "I-PER"]
    assert (home / "adapters" / "ner" / "tiny" / "v1" / "head.safetensors").exists()
    assert "dev_f1" in meta["metrics"]


def test_eval_prints_entity_scores_per_type(home, tmp_path, capsys):
    data = tmp_path / "test.jsonl"
    data.write_text("\n".join(json.dumps({"tokens": s.split(), "tags": t.split()}) for s, t in SENTENCES) + "\n")
    assert main(["eval", "ner", "--name", "tiny", "--data", str(data), "--json", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "ORG" in out and "PER" in out and "micro avg" in out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["per_type"]["ORG"]["support"] == 2 and report["per_type"]["PER"]["support"] == 2


def test_tag_csv_writes_one_line_per_input_with_exact_offsets(home, tmp_path):
    src = tmp_path / "in.csv"
    texts = ["Acme hired Bob Stone today", "", "  Bob  Stone left Acme Corp, said Acme."]
    src.write_text("id,text\n" + "\n".join(f'{i},"{t}"' for i, t in enumerate(texts)) + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["ner", "tag", "--input", str(src), "--output", str(out), "--adapter", "ner/tiny"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["text"] for r in rows] == texts and rows[1]["entities"] == []
    for row in rows:
        for e in row["entities"]:
            assert set(e) == {"text", "type", "start", "end", "score"}
            assert row["text"][e["start"]:e["end"]] == e["text"]


def test_tag_conll_appends_the_predicted_tag_as_last_column(home, tmp_path):
    text = conll(SENTENCES)
    src = tmp_path / "test.conll"
    src.write_text(text)
    out = tmp_path / "pred.conll"
    assert main(["ner", "tag", "--input", str(src), "--output", str(out), "--adapter", "tiny"]) == 0
    lines_in, lines_out = text.split("\n")[:-1], out.read_text().split("\n")[:-1]
    assert len(lines_in) == len(lines_out)
    for a, b in zip(lines_in, lines_out, strict=True):
        assert (a == b == "") or (b.startswith(a + " ") and b.split()[-1] in {"O", "B-ORG", "I-ORG", "B-PER", "I-PER"})


def test_bad_files_exit_2_name_the_line_and_write_nothing(home, tmp_path, capsys):
    good = tmp_path / "train.conll"
    good.write_text(conll(SENTENCES))
    dev = tmp_path / "dev.conll"
    dev.write_text("Paris NN B-LOC\n")
    assert main(["train", "ner", "--data", str(good), "--dev", str(dev), "--name", "bad"]) == 2
    assert "dev.conll, row 1: tag 'B-LOC' is not in the training tag set" in capsys.readouterr().err
    cols = tmp_path / "cols.conll"
    cols.write_text("Acme NN B-ORG\nhired O\n")
    assert main(["train", "ner", "--data", str(cols), "--name", "bad"]) == 2
    assert "cols.conll, row 2: 2 columns" in capsys.readouterr().err
    assert not (home / "adapters" / "ner" / "bad").exists()
    out = tmp_path / "out.conll"
    assert main(["ner", "tag", "--input", str(cols), "--output", str(out), "--adapter", "tiny"]) == 2
    assert "row 2" in capsys.readouterr().err and not out.exists()
    assert main(["ner", "tag", "--input", str(good), "--output", str(out), "--adapter", "nope"]) == 2
    assert "no adapter ner/nope" in capsys.readouterr().err and not out.exists()
