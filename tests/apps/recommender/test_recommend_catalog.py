import json

import pytest

from apps.recommender.catalog import import_files, parse_timestamp, read_interactions, read_items
from apps.recommender.store import Store
from shared.errors import DataError

BAD_ITEMS = """item_id,title,text,genres
a1,Good,Some text,g
a1,Dup,Other text,g
a2,Empty,,g
a3,Too,many,fields,here
a4,Few
,NoId,text,g
a5,Fine,More text,
"""

BAD_INTERACTIONS = """user_id,item_id,rating,timestamp
u1,a1,4,1700000000
u1,zz,4,1700000000
u1,a5,7,1700000000
u1,a5,abc,1700000000
u1,a5,3,notatime
u2,a5,3
u2,a1,-1,2024-01-01
u2,a5,2.5,2024-01-02T10:00:00Z
u1,a1,4,1700000000
"""


def test_good_import_and_idempotence(micro_files):
    store = Store()
    first = import_files(*micro_files, store=store)
    assert [(r.added, len(r.problems)) for r in first] == [(12, 0), (23, 0)]
    again = import_files(*micro_files, store=store)
    assert [(r.added, r.unchanged) for r in again] == [(0, 12), (0, 23)]
    assert store.count("items") == 12 and store.count("interactions") == 23
    snapshot = store.snapshot()
    assert snapshot.items[0].meta == {"genres": "science-fiction|space-opera"}
    assert [r.ts for r in snapshot.interactions] == sorted(r.ts for r in snapshot.interactions)


def test_changed_item_is_updated_in_place(tmp_path, micro_files):
    store = Store()
    import_files(*micro_files, store=store)
    before = store.snapshot()
    path = tmp_path / "changed.csv"
    path.write_text("item_id,title,text\ns1,Stars of the Expanse,A new description.\n")
    report = import_files(items=path, store=store)[0]
    assert (report.added, report.updated) == (0, 1)
    after = store.snapshot()
    assert list(after.row_ids) == list(before.row_ids) and after.version != before.version
    assert after.items[0].text == "A new description."


def test_bad_items_are_reported_with_rows_and_the_rest_imported(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text(BAD_ITEMS)
    report = read_items(path)
    assert [i.item_id for i in report.rows] == ["a1", "a5"]
    assert [(p.row, p.reason) for p in report.problems] == [
        (3, "duplicate id"), (4, "empty text"), (5, "malformed"), (6, "malformed"), (7, "malformed")]
    assert "first on row 2" in report.problems[0].message
    assert report.counts() == {"duplicate id": 1, "empty text": 1, "malformed": 3}
    summary = report.summary()
    assert "7 item rows, 2 valid" in summary and "row 4: item 'a2' has an empty text" in summary


def test_bad_interactions_are_reported_with_rows_and_the_rest_imported(tmp_path):
    items, inter = tmp_path / "items.csv", tmp_path / "inter.csv"
    items.write_text(BAD_ITEMS)
    inter.write_text(BAD_INTERACTIONS)
    store = Store()
    reports = import_files(items, inter, store=store)
    report = reports[1]
    assert [(p.row, p.reason) for p in report.problems] == [
        (3, "unknown item"), (4, "out of range"), (5, "malformed"), (6, "malformed"), (7, "malformed"),
        (8, "out of range"), (10, "duplicate row")]
    assert "unknown item_id 'zz'" in report.problems[0].message
    assert "outside [0, 5]" in report.problems[1].message
    assert report.added == 2 and store.count("interactions") == 2
    assert json.loads(store.db.query("SELECT report FROM recommender_imports ORDER BY id DESC")[0]["report"])[
        "skipped"] == {"unknown item": 1, "out of range": 2, "malformed": 3, "duplicate row": 1}


def test_jsonl_weights_and_malformed_lines(tmp_path):
    items = tmp_path / "items.jsonl"
    items.write_text('{"item_id": "a", "title": "A", "text": "alpha", "year": 1999}\n'
                     '{"item_id": "b", "title": "B"\n'
                     '\n'
                     '{"item_id": "c", "text": "gamma"}\n')
    report = read_items(items)
    assert [(i.item_id, i.meta) for i in report.rows] == [("a", {"year": 1999})]
    assert [(p.row, p.reason) for p in report.problems] == [(2, "malformed"), (4, "malformed")]
    inter = tmp_path / "events.jsonl"
    inter.write_text('{"user_id": "u", "item_id": "a", "weight": 3, "timestamp": "2024-05-01"}\n'
                     '{"user_id": "u", "item_id": "a", "weight": -1, "timestamp": 1714600000000}\n')
    rows = read_interactions(inter, {"a"}).rows
    assert [(r.kind, r.value) for r in rows] == [("weight", 3.0), ("weight", -1.0)]
    assert rows[1].ts == pytest.approx(1714600000.0)


def test_missing_column_rejects_the_file(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("item_id,name\na,b\n")
    with pytest.raises(DataError, match=r"items.csv, row 1: missing column\(s\) \['title', 'text'\]"):
        read_items(path)
    with pytest.raises(DataError, match="file not found"):
        read_interactions(tmp_path / "nope.csv")


def test_parse_timestamp_forms():
    assert parse_timestamp("1700000000") == 1_700_000_000
    assert parse_timestamp(1_700_000_000_000) == 1_700_000_000
    assert parse_timestamp("2024-01-01T00:00:00Z") == parse_timestamp("2024-01-01") == 1_704_067_200
    with pytest.raises(ValueError):
        parse_timestamp("")
