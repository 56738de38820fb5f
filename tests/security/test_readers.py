"""Issue 11 #11: readers keep every character of the data (line breaks in quoted fields, U+2028,
BOM, CRLF) and turn hostile files (huge fields, deep JSON) into one-line errors with the line."""

from __future__ import annotations

import csv
import json

import pytest

from apps.cli import main
from apps.recommender.catalog import read_items
from shared.atomic import write_jsonl
from shared.datasets import MAX_FIELD_CHARS, read_csv_rows, read_jsonl, read_texts
from shared.errors import DataError

TRICKY = ["Boeing halts 737\nproduction", "Shares\u2028slide", "Fed\r\nholds", "tab\tand\x0cfeed\x1c\x1d\x1e\x85end",
          'quote " and, comma', "Ünïcode\u2029para"]


def _csv(path, rows, **kwargs) -> None:
    with open(path, "w", newline="", encoding=kwargs.pop("encoding", "utf-8")) as handle:
        csv.writer(handle, **kwargs).writerows(rows)


@pytest.mark.parametrize("terminator", ["\n", "\r\n"])
def test_csv_keeps_quoted_line_breaks_and_separators(tmp_path, terminator):
    path = tmp_path / "in.csv"
    _csv(path, [["id", "text"]] + [[i, t] for i, t in enumerate(TRICKY)], lineterminator=terminator,
         encoding="utf-8-sig")  # with a BOM
    rows = read_csv_rows(path, ["id", "text"])
    assert [r["text"] for _, r in rows] == TRICKY
    assert [n for n, _ in rows] == list(range(2, 2 + len(TRICKY)))  # spreadsheet rows, not file lines


def test_jsonl_written_by_the_project_reads_back(tmp_path):
    path = tmp_path / "out.jsonl"
    write_jsonl(path, [{"text": t} for t in TRICKY])  # ensure_ascii=False: U+2028 is written raw
    assert "\u2028" in path.read_text(encoding="utf-8")
    assert [obj["text"] for _, obj in read_jsonl(path)] == TRICKY
    path.write_bytes(b"\xef\xbb\xbf" + b'{"text": "a"}\r\n\r\n{"text": "b\xe2\x80\xa8c"}\r\n')
    assert [(n, o["text"]) for n, o in read_jsonl(path)] == [(1, "a"), (3, "b\u2028c")]


def test_huge_field_and_deep_json_are_data_errors_naming_the_line(tmp_path, capsys):
    big = tmp_path / "big.csv"
    big.write_text("text\nshort\n\"" + "x" * (MAX_FIELD_CHARS + 10) + "\"\n")
    with pytest.raises(DataError, match=r"big\.csv: is not readable CSV at line 3"):
        read_csv_rows(big, ["text"])
    deep = tmp_path / "deep.jsonl"
    deep.write_text('{"text": "ok"}\n' + '{"text": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    with pytest.raises(DataError, match=r"deep\.jsonl, row 2: not valid JSON: JSON nested too deeply"):
        read_jsonl(deep)
    huge_int = tmp_path / "int.jsonl"
    huge_int.write_text('{"text": ' + "9" * 5000 + "}\n")
    with pytest.raises(DataError, match=r"int\.jsonl, row 1"):
        read_texts(huge_int)
    for bad in (big, deep):
        assert main(["sentiment", "classify", "--input", str(bad), "--output", str(tmp_path / "o.jsonl")]) == 2
        err = capsys.readouterr().err
        assert bad.name in err and "Traceback" not in err


class _Fake:
    name = "fake"

    def predict(self, texts):
        from apps.sentiment.classify import Scored

        return [Scored("neutral", 0.5, 0.0) for _ in texts]


def test_sentiment_classify_keeps_a_headline_with_a_line_break(tmp_path, monkeypatch):
    from apps.sentiment import classify

    monkeypatch.setattr(classify.SentimentModel, "load", classmethod(lambda cls, name="x": _Fake()))
    _csv(tmp_path / "in.csv", [["text"]] + [[t] for t in TRICKY])
    out = tmp_path / "out.jsonl"
    assert main(["sentiment", "classify", "--input", str(tmp_path / "in.csv"), "--output", str(out)]) == 0
    assert [obj["text"] for _, obj in read_jsonl(out)] == TRICKY
    assert main(["sentiment", "classify", "--input", str(out), "--output", str(tmp_path / "again.jsonl")]) == 0
    assert [obj["text"] for _, obj in read_jsonl(tmp_path / "again.jsonl")] == TRICKY


def test_recommender_catalog_keeps_multiline_items(tmp_path):
    _csv(tmp_path / "items.csv", [["item_id", "title", "text"], ["a", "A", "line one\nline two"],
                                  ["b", "B", "para\u2028graph"]])
    assert [i.text for i in read_items(tmp_path / "items.csv").rows] == ["line one\nline two", "para\u2028graph"]
    (tmp_path / "items.jsonl").write_text(
        json.dumps({"item_id": "a", "title": "A", "text": "x\u2028y"}, ensure_ascii=False) + "\n"
        + '{"item_id": "b", "title": "B", "text": ' + "[" * 50_000 + "]" * 50_000 + "}\n", encoding="utf-8")
    result = read_items(tmp_path / "items.jsonl")
    assert [i.text for i in result.rows] == ["x\u2028y"]
    assert [(p.row, "nested too deeply" in p.message) for p in result.problems] == [(2, True)]
