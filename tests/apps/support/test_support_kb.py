"""Reading and chunking help-centre files (no model)."""

from __future__ import annotations

import pytest

from apps.support.kb import list_files, read_file, slug, split_text
from shared.errors import DataError


def test_markdown_front_matter_and_sections(kb_dir):
    doc = read_file(kb_dir / "lost_or_stolen_card.md")
    assert doc.title == "Lost or stolen card"
    assert [c.section for c in doc.chunks] == ["Answer", "Steps", "How long does it take", "Fees"]
    assert [c.anchor for c in doc.chunks] == ["answer", "steps", "how-long-does-it-take", "fees"]
    assert all(c.intent == "lost_or_stolen_card" and "stolen" in c.tags for c in doc.chunks)
    assert doc.chunks[0].url == f"{doc.source}#answer" and len(doc.hash) == 64


def test_markdown_without_front_matter_takes_its_title_from_the_first_heading(tmp_path):
    path = tmp_path / "faq.md"
    path.write_text("# Opening hours\n\nWe answer chats 24/7.\n\n## Phone\nPhone lines open 8am to 8pm.\n")
    doc = read_file(path)
    assert doc.title == "Opening hours"
    assert [(c.section, c.anchor) for c in doc.chunks] == [("Overview", "top"), ("Phone", "phone")]


def test_long_sections_are_cut_at_paragraphs_and_sentences():
    text = "\n\n".join(f"Paragraph {i}. " + "word " * 60 for i in range(10))
    pieces = split_text(text, max_chars=400)
    assert len(pieces) > 3 and all(len(p) <= 400 for p in pieces)
    assert "".join(pieces).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")
    assert split_text("x" * 1000, max_chars=300)[0] == "x" * 300


def test_long_markdown_section_gets_numbered_anchors(tmp_path):
    path = tmp_path / "long.md"
    path.write_text("## Details\n\n" + "\n\n".join("A sentence about fees. " * 20 for _ in range(4)))
    anchors = [c.anchor for c in read_file(path).chunks]
    assert anchors[0] == "details" and anchors[1] == "details-2"


def test_txt_csv_and_jsonl(tmp_path):
    (tmp_path / "notes.txt").write_text("First paragraph.\n\nSecond paragraph.")
    (tmp_path / "faq.csv").write_text('question,answer\nHow do I close my account?,"Go to Profile, Close."\n')
    (tmp_path / "more.jsonl").write_text('{"question": "Is there an app?", "answer": "Yes, on iOS and Android."}\n'
                                         '{"title": "Cheques", "text": "Pay cheques in with the app.", '
                                         '"url": "https://help.example/cheques"}\n')
    txt, qa, jl = (read_file(tmp_path / n) for n in ("notes.txt", "faq.csv", "more.jsonl"))
    assert txt.chunks[0].text == "First paragraph.\n\nSecond paragraph."
    assert qa.chunks[0].title == "How do I close my account?" and qa.chunks[0].anchor == "row-2"
    assert [c.title for c in jl.chunks] == ["Is there an app?", "Cheques"]
    assert jl.chunks[1].url == "https://help.example/cheques"


@pytest.mark.parametrize("name, content, match", [
    ("bad.csv", "question,reply\nq,a\n", r"bad.csv, row 1: missing column"),
    ("empty.csv", "question,answer\nq,\n", r"empty.csv, row 2: empty question or answer"),
    ("bad.jsonl", '{"text": "ok"}\n{oops\n', r"bad.jsonl, row 2: not valid JSON"),
    ("nope.jsonl", '{"title": "x"}\n', r"nope.jsonl, row 1: needs a non-empty 'text'"),
    ("fm.md", "---\ntitle: [unclosed\n---\nbody\n", r"fm.md, row \d+: front matter is not valid YAML"),
    ("open.md", "---\ntitle: x\nbody\n", r"open.md, row 1: front matter .* never closed"),
    ("doc.pdf", "x", r"unsupported file type '.pdf'"),
])
def test_bad_files_name_the_file_and_row(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError, match=match):
        read_file(path)


def test_non_utf8_is_reported(tmp_path):
    path = tmp_path / "latin1.md"
    path.write_bytes("## Café\nprix: 5€".encode("latin-1", errors="replace"))
    with pytest.raises(DataError, match="not UTF-8"):
        read_file(path)


def test_list_files_recurses_skips_hidden_and_rejects_missing(kb_dir):
    (kb_dir / ".draft.md").write_text("## x\ny")
    (kb_dir / "sub").mkdir()
    (kb_dir / "sub" / "extra.txt").write_text("extra")
    (kb_dir / "image.png").write_bytes(b"\x89PNG")
    names = [p.name for p in list_files([kb_dir])]
    assert "extra.txt" in names and ".draft.md" not in names and "image.png" not in names
    with pytest.raises(DataError, match="no such file or folder"):
        list_files([kb_dir / "missing"])


def test_slug():
    assert slug("How long does it take?") == "how-long-does-it-take"
    assert slug("Fees & limits") == "fees-limits"
