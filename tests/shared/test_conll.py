"""CoNLL / JSONL reading, the bad inputs (with their line numbers) and the prediction writer."""

from __future__ import annotations

import json

import pytest

from shared.conll import check_tags, read_conll, read_tagged, write_conll_predictions
from shared.errors import DataError

CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER

"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_conll_columns_skipping_docstart_and_blank_lines(tmp_path):
    sentences = read_tagged(write(tmp_path, "train.txt", CONLL + "\n\n"))
    assert [s.tokens for s in sentences] == [["EU", "rejects", "German", "call"], ["Peter", "Blackburn"]]
    assert sentences[0].tags == ["B-ORG", "O", "B-MISC", "O"]
    assert sentences[1].tags == ["B-PER", "I-PER"]
    assert sentences[0].token_lines == [3, 4, 5, 6] and sentences[1].line == 8


def test_io_and_iob1_tags_become_iob2_and_tabs_work(tmp_path):
    path = write(tmp_path, "fin.conll", "Bank\tI-ORG\nof\tI-ORG\nAmerica\tI-ORG\nand\tO\nJohn\tI-PER\nAcme\tI-ORG\n")
    (sentence,) = read_tagged(path)
    assert sentence.tags == ["B-ORG", "I-ORG", "I-ORG", "O", "B-PER", "B-ORG"]


def test_reads_jsonl_by_extension_or_content(tmp_path):
    rows = [{"tokens": ["Pay", "$", "20"], "tags": ["O", "B-CURRENCY", "B-AMOUNT"]}, {"tokens": ["hi"], "tags": ["O"]}]
    text = "\n".join(json.dumps(r) for r in rows) + "\n"
    for name in ("slots.jsonl", "slots.data"):
        sentences = read_tagged(write(tmp_path, name, text))
        assert [s.tags for s in sentences] == [r["tags"] for r in rows]
        assert [s.line for s in sentences] == [1, 2]


@pytest.mark.parametrize("text, line, message", [
    ("EU NNP B-ORG\nrejects VBZ O\nGerman B-MISC\n", 3, "2 columns but the file's first line has 3"),
    ("EU B-ORG\n\nrejects O\ncall XYZ\n", 4, "tag 'XYZ' is not O, B-TYPE or I-TYPE"),
    ("EU\nrejects\n", 1, "only one column"),
])
def test_bad_conll_names_the_line(tmp_path, text, line, message):
    path = write(tmp_path, "bad.conll", text)
    with pytest.raises(DataError, match=rf"bad.conll, row {line}: .*{message}"):
        read_tagged(path)


@pytest.mark.parametrize("row, message", [
    ({"tokens": [], "tags": []}, "empty sentence"),
    ({"tokens": ["a", "b"], "tags": ["O"]}, "2 tokens but 1 tags"),
    ({"tokens": ["a", " "], "tags": ["O", "O"]}, "token 1"),
    ({"tokens": ["a"], "tags": ["ORG"]}, "tag 'ORG' is not"),
    ({"text": "a"}, "each line must be"),
])
def test_bad_jsonl_names_the_line(tmp_path, row, message):
    path = write(tmp_path, "bad.jsonl", json.dumps({"tokens": ["ok"], "tags": ["O"]}) + "\n\n" + json.dumps(row) + "\n")
    with pytest.raises(DataError, match=rf"bad.jsonl, row 3: .*{message}"):
        read_tagged(path)


def test_empty_file_and_file_without_sentences(tmp_path):
    with pytest.raises(DataError, match="file is empty"):
        read_tagged(write(tmp_path, "empty.conll", "\n\n"))
    with pytest.raises(DataError, match="no sentences"):
        read_tagged(write(tmp_path, "docs.conll", "-DOCSTART- -X- -X- O\n\n"))


def test_dev_tag_outside_the_training_tag_set_names_its_line(tmp_path):
    dev = write(tmp_path, "dev.conll", "EU B-ORG\n\nin O\nParis B-LOC\n")
    with pytest.raises(DataError, match=r"dev.conll, row 4: tag 'B-LOC' is not in the training tag set"):
        check_tags(read_tagged(dev), ["O", "B-ORG", "I-ORG"], dev)


def test_writes_predictions_as_an_extra_last_column(tmp_path):
    src = write(tmp_path, "in.txt", CONLL)
    sentences = read_conll(src, tagged=False)
    assert [len(s.tokens) for s in sentences] == [4, 2] and sentences[0].tags is None
    out = tmp_path / "out.txt"
    n = write_conll_predictions(src, out, [["B-ORG", "O", "O", "O"], ["B-PER", "I-PER"]])
    lines_in, lines_out = CONLL.split("\n")[:-1], out.read_text().split("\n")[:-1]
    assert n == len(lines_in) == len(lines_out)
    assert lines_out[0] == "-DOCSTART- -X- -X- O O" and lines_out[1] == ""
    assert lines_out[2] == "EU NNP B-NP B-ORG B-ORG" and lines_out[8] == "Blackburn NNP I-NP I-PER I-PER"
    assert all(o.startswith(i) for i, o in zip(lines_in, lines_out, strict=True))


def test_tokens_only_file_keeps_tabs_and_nothing_is_written_on_error(tmp_path):
    src = write(tmp_path, "tok.tsv", "Acme\tNNP\nrose\tVBD\n")
    out = tmp_path / "out.tsv"
    write_conll_predictions(src, out, [["B-ORG", "O"]])
    assert out.read_text() == "Acme\tNNP\tB-ORG\nrose\tVBD\tO\n"
    with pytest.raises(ValueError):
        write_conll_predictions(src, tmp_path / "never.tsv", [["O", "O", "O"]])
    with pytest.raises(ValueError):
        write_conll_predictions(src, tmp_path / "never.tsv", [["O"]])
    assert not (tmp_path / "never.tsv").exists()
