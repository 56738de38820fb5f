"""``lorasuite recommend ...`` in-process: import, the batch contract, for-user, query, errors."""

import json

from apps.cli import main


def test_import_reports_problems_and_keeps_good_rows(tmp_path, micro_files, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,item_id,rating,timestamp\nu1,s1,4,1700000000\nu1,zz,4,1700000000\nu1,s2,9,1\n")
    assert main(["recommend", "import", "--items", micro_files[0], "--interactions", str(bad)]) == 0
    out = capsys.readouterr().out
    assert "12 item rows, 12 valid (12 new" in out
    assert "3 interaction rows, 1 valid" in out and "row 3: unknown item_id 'zz'" in out
    assert "row 4: rating '9' is outside [0, 5]" in out


def test_batch_contract(tmp_path, micro_files, minilm, capsys):
    assert main(["recommend", "import", "--items", micro_files[0], "--interactions", micro_files[1]]) == 0
    capsys.readouterr()
    users = tmp_path / "users.txt"
    users.write_text("space1\n\nstranger\ncook1\nspace1\n")
    out = tmp_path / "recs.jsonl"
    code = main(["recommend", "batch", "--users", str(users), "--k", "3", "--output", str(out), "--adapter", "none"])
    assert code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["user_id"] for r in rows] == ["space1", "stranger", "cook1", "space1"]
    assert all(set(r) == {"user_id", "items"} and len(r["items"]) == 3 for r in rows)
    assert not set(rows[0]["items"]) & {"s1", "s2", "s3", "m2"} and rows[0] == rows[3]
    assert not set(rows[2]["items"]) & {"c1", "c2", "c3"}
    assert json.loads(capsys.readouterr().out) == {"output": str(out), "lines": 4, "unknown_users": 1}
    assert main(["recommender", "for-user", "stranger", "--k", "2", "--adapter", "none", "--json"]) == 0
    captured = capsys.readouterr()
    printed = [json.loads(line) for line in captured.out.splitlines()]  # JSON lines only on stdout
    assert printed[0]["item_id"] == rows[1]["items"][0] and "unknown user 'stranger'" in captured.err
    assert main(["recommend", "query", "bread and sourdough", "--k", "1", "--adapter", "none"]) == 0
    assert "[c2]" in capsys.readouterr().out


def test_user_errors_exit_2_without_traceback(tmp_path, micro_files, capsys):
    users = tmp_path / "users.txt"
    users.write_text("u1\n")
    assert main(["recommend", "batch", "--users", str(users), "--output", str(tmp_path / "o"), "--adapter", "none"]) == 2
    assert "error: no items imported yet" in capsys.readouterr().err
    main(["recommend", "import", "--items", micro_files[0]])
    capsys.readouterr()
    assert main(["recommend", "batch", "--users", str(tmp_path / "none.txt"), "--output", str(tmp_path / "o"),
                 "--adapter", "none"]) == 2
    assert "none.txt: cannot read the users file" in capsys.readouterr().err
    assert main(["recommend", "for-user", "u", "--adapter", "missing"]) == 2
    assert "no adapter recommender/missing" in capsys.readouterr().err
    assert main(["recommend", "import"]) == 2
    assert not (tmp_path / "o").exists()


def test_import_movielens_layout(tmp_path, capsys):
    ml = tmp_path / "ml"
    ml.mkdir()
    (ml / "movies.csv").write_text('movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n'
                                   '2,"Heat, The (1995)",(no genres listed)\n')
    (ml / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.5,964982703\n1,2,0.5,964982704\n")
    (ml / "tags.csv").write_text("userId,movieId,tag,timestamp\n1,1,pixar,1\n2,1,Pixar,2\n2,1,fun,3\n")
    out = tmp_path / "out"
    assert main(["recommend", "import-movielens", str(ml), "--out", str(out), "--import"]) == 0
    items = (out / "items.csv").read_text().splitlines()
    assert items[1] == "1,Toy Story (1995),\"Genres: Adventure, Animation. Tags: pixar, fun.\",1995"
    assert "Film (no genres or tags listed)." in items[2]
    printed = capsys.readouterr()
    assert "2 items" in printed.err and "2 interaction rows, 2 valid" in printed.out
