"""``lorasuite support ...`` run in-process through apps.cli.main."""

from __future__ import annotations

import json

from support_kb import file_ctx, pinned_ctx

from apps.cli import main

KEYS = ["text", "intent", "confidence", "answer", "sources", "escalate"]


def test_batch_ask_writes_one_line_per_input_in_order(index_home, proto_intent, tmp_path):
    questions = ["I lost my card", "", "agent please", "<b>what exchange rate do you use</b>",
                 "what's the capital of Australia"]
    src = tmp_path / "questions.csv"
    src.write_text("id,text\n" + "".join(f'{i},"{q}"\n' for i, q in enumerate(questions)), encoding="utf-8")
    out = tmp_path / "answers.jsonl"
    assert main(["support", "ask", "--input", str(src), "--output", str(out), "--adapter", str(proto_intent)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == questions
    assert all(list(r) == KEYS for r in rows)
    assert rows[0]["intent"] == "lost_or_stolen_card" and rows[0]["escalate"] is False
    assert rows[0]["sources"][0]["url"].endswith("#answer") and isinstance(rows[0]["confidence"], float)
    assert rows[1]["escalate"] is False and rows[1]["sources"] == []
    assert rows[2]["escalate"] is True and rows[4]["escalate"] is True
    assert rows[3]["intent"] == "exchange_rate"


def test_batch_ask_reads_jsonl(index_home, proto_intent, tmp_path):
    src = tmp_path / "q.jsonl"
    src.write_text('{"text": "my card was stolen"}\n{"text": "human please"}\n')
    out = tmp_path / "a.jsonl"
    assert main(["support", "ask", "--input", str(src), "--output", str(out), "--adapter", str(proto_intent)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["escalate"] for r in rows] == [False, True]


def test_batch_ask_rejects_bad_files_without_writing(index_home, tmp_path, capsys):
    src = tmp_path / "q.csv"
    src.write_text("question\nhello\n")
    out = tmp_path / "a.jsonl"
    assert main(["support", "ask", "--input", str(src), "--output", str(out)]) == 2
    assert "q.csv, row 1: missing column(s) ['text']" in capsys.readouterr().err and not out.exists()
    assert main(["support", "ask", "--input", str(src)]) == 2
    assert "needs both --input" in capsys.readouterr().err


def test_single_ask_prints_answer_and_sources(index_home, proto_intent, capsys):
    assert main(["support", "ask", "I lost my card", "--adapter", str(proto_intent)]) == 0
    out = capsys.readouterr().out
    assert "freeze it straight away" in out and "source: Lost or stolen card › Answer" in out
    assert main(["support", "ask", "talk to a human", "--json", "--adapter", str(proto_intent)]) == 0
    assert json.loads(capsys.readouterr().out)["escalate"] is True


def test_ingest_verb_is_idempotent(kb_dir, minilm, capsys):
    assert main(["support", "ingest", str(kb_dir)]) == 0
    assert "5 added" in capsys.readouterr().out
    assert main(["support", "ingest", str(kb_dir)]) == 0
    assert "0 added, 0 updated, 5 unchanged" in capsys.readouterr().out
    assert main(["support", "ingest", str(kb_dir / "missing.md")]) == 2


def test_train_verb_saves_an_adapter(tiny_bert, tmp_path, capsys):
    from shared import adapters

    data = tmp_path / "train.csv"
    rows = [("I lost my card", "lost_or_stolen_card"), ("my card was stolen", "lost_or_stolen_card"),
            ("where is my card", "card_arrival"), ("card not arrived", "card_arrival")] * 4
    data.write_text("text,category\n" + "".join(f"{t},{c}\n" for t, c in rows))
    assert main(["support", "train", "--data", str(data), "--name", "tiny", "--model", tiny_bert,
                 "--epochs", "1", "--batch-size", "8"]) == 0
    meta = adapters.read_meta(adapters.find("support", "tiny"))
    assert meta["labels"] == ["card_arrival", "lost_or_stolen_card"]
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nx,y\n")
    assert main(["support", "train", "--data", str(bad), "--name", "t2", "--model", tiny_bert]) == 2
    assert "missing column(s) ['category']" in capsys.readouterr().err


def test_start_ingests_the_configured_help_centre_once(kb_dir, proto_intent, minilm):
    from apps.support.app import bot, spec
    from apps.support.search import HybridIndex, index_dir

    ctx = pinned_ctx(**{"kb_paths": [str(kb_dir)], "intent_adapter": str(proto_intent)})
    try:
        assert spec.start(ctx) == [] and spec.health() is True
        assert len(HybridIndex.load().docs) == 5
        stamp = (index_dir() / "meta.json").stat().st_mtime_ns
        assert spec.start(ctx) == [] and (index_dir() / "meta.json").stat().st_mtime_ns == stamp
        assert bot(ctx).ask("I lost my card").reason == "article"
    finally:
        spec.stop()


def test_calibrate_verb_saves_thresholds_the_bot_then_uses(index_home, proto_intent, tmp_path, capsys, monkeypatch):
    from support_kb import EXAMPLES

    from apps.support.bot import SupportBot

    (tmp_path / "empty.toml").write_text("")
    monkeypatch.setenv("LORASUITE_CONFIG", str(tmp_path / "empty.toml"))  # no config keys to win over the file

    dev = tmp_path / "dev.csv"
    dev.write_text("text,category\n" + "".join(f"{t},{label}\n" for label, texts in EXAMPLES.items() for t in texts))
    oos = tmp_path / "oos.csv"
    oos.write_text("text,kind\n" + "".join(f"{t},out_of_scope\n" for t in [
        "what's the weather tomorrow", "recommend a film", "how tall is Everest", "write me a poem",
        "who won the football", "best pizza nearby"]) + "agent please,human\n")
    assert main(["support", "calibrate", "--adapter", str(proto_intent), "--dev", str(dev), "--oos", str(oos)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["report"]["inscope_n"] == 8 and printed["saved"].endswith("thresholds.json")
    bot = SupportBot(file_ctx(), adapter=str(proto_intent))
    assert bot.thresholds.source == printed["saved"]
    assert bot.thresholds.min_similarity == printed["thresholds"]["min_similarity"]
    assert main(["support", "status", "--adapter", str(proto_intent)]) == 0
    assert '"passages": 13' in capsys.readouterr().out
