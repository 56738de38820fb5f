"""Read and write token-tagged files: the CoNLL column format and JSONL.

CoNLL: one token per line, columns separated by spaces or tabs, the tag in the LAST column,
a blank line between sentences, ``-DOCSTART-`` lines ignored (repeated blank lines are just
separators, as in the real CoNLL-2003 and WNUT-17 files). JSONL: one sentence per line,
``{"tokens": [...], "tags": [...]}``. Tags are ``O``/``B-X``/``I-X``; IOB1 and IO files are
accepted and normalised to IOB2 on reading.

Bad input raises DataError naming the file and line: a line whose column count differs from
the file's first token line, a malformed tag, a dev tag outside the training tag set, an empty
sentence. Nothing is written before the whole input is valid.

    sentences = read_tagged("train.conll")              # CoNLL or JSONL (by extension/content)
    check_tags(read_tagged("dev.conll"), allowed, "dev.conll")
    write_conll_predictions("in.conll", "out.conll", predicted_tags)   # tag appended as last column
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shared.atomic import atomic_path
from shared.datasets import read_jsonl, read_utf8
from shared.entities import is_tag, tag_type, to_iob2
from shared.errors import DataError

DOCSTART = "-DOCSTART-"
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


@dataclass
class Sentence:
    """Tokens, their tags (None when the file has no tag column) and where they came from."""

    tokens: list[str]
    tags: list[str] | None
    line: int  # 1-based line of the first token (CoNLL) or of the JSON object (JSONL)
    token_lines: list[int] = field(default_factory=list)  # CoNLL: the line of each token

    def line_of(self, i: int) -> int:
        return self.token_lines[i] if self.token_lines else self.line


def file_lines(path: str | Path) -> list[str]:
    """The lines of a UTF-8 file without newlines (only ``\\n`` splits; a trailing one adds no line)."""
    text = read_utf8(path)
    lines = [line.rstrip("\r") for line in text.split("\n")]
    return lines[:-1] if lines and lines[-1] == "" else lines


def is_jsonl(path: str | Path) -> bool:
    """JSONL by extension, or a file whose first non-blank character is ``{``."""
    path = Path(path)
    if path.suffix.lower() in JSONL_SUFFIXES:
        return True
    head = read_utf8(path)[:4096].lstrip()
    return head.startswith("{")


def read_tagged(path: str | Path) -> list[Sentence]:
    """Sentences of a CoNLL or JSONL file, tags validated and normalised to IOB2."""
    sentences = read_jsonl_tagged(path) if is_jsonl(path) else read_conll(path)
    if not sentences:
        raise DataError(path, "no sentences found", fix="give tokens one per line, blank line between sentences")
    return sentences


def read_conll(path: str | Path, tagged: bool = True) -> list[Sentence]:
    """Sentences of a CoNLL column file (token = first column; tag = last column when ``tagged``)."""
    sentences: list[Sentence] = []
    tokens, tags, lines = [], [], []
    width = None
    for number, raw in enumerate(file_lines(path), start=1):
        cols = raw.split()
        if not cols or cols[0] == DOCSTART:
            if tokens:
                sentences.append(_conll_sentence(path, tokens, tags if tagged else None, lines))
                tokens, tags, lines = [], [], []
            continue
        if width is None:
            width = len(cols)
            if tagged and width < 2:
                raise DataError(path, f"only one column ({raw.strip()!r}); the tag must be the last column",
                                row=number, fix="write 'token tag' on each line")
        if len(cols) != width:
            raise DataError(path, f"{len(cols)} columns but the file's first line has {width}", row=number,
                            fix="every token line needs the same columns (token first, tag last)")
        tokens.append(cols[0])
        tags.append(cols[-1])
        lines.append(number)
    if tokens:
        sentences.append(_conll_sentence(path, tokens, tags if tagged else None, lines))
    return sentences


def _conll_sentence(path: str | Path, tokens: list[str], tags: list[str] | None, lines: list[int]) -> Sentence:
    sentence = Sentence(tokens, tags, lines[0], lines)
    if tags is not None:
        sentence.tags = _checked_iob2(path, sentence)
    return sentence


def _checked_iob2(path: str | Path, sentence: Sentence) -> list[str]:
    for i, tag in enumerate(sentence.tags or []):
        if not is_tag(tag):
            raise DataError(path, f"tag {tag!r} is not O, B-TYPE or I-TYPE", row=sentence.line_of(i),
                            fix="use BIO tags in the last column")
    return to_iob2(sentence.tags or [])


def read_jsonl_tagged(path: str | Path) -> list[Sentence]:
    """Sentences of a JSONL file with ``tokens`` and ``tags`` lists of equal length."""
    sentences = []
    for number, obj in read_jsonl(path):
        tokens, tags = obj.get("tokens"), obj.get("tags")
        if not isinstance(tokens, list) or not isinstance(tags, list):
            raise DataError(path, 'each line must be {"tokens": [...], "tags": [...]}', row=number)
        if not tokens:
            raise DataError(path, "empty sentence (no tokens)", row=number, fix="delete the line")
        if len(tokens) != len(tags):
            raise DataError(path, f"{len(tokens)} tokens but {len(tags)} tags", row=number)
        bad = [i for i, t in enumerate(tokens) if not isinstance(t, str) or not t.strip() or t != t.strip()]
        if bad:
            raise DataError(path, f"token {bad[0]} ({tokens[bad[0]]!r}) is empty, not a string or has spaces",
                            row=number, fix="tokens are non-empty strings without surrounding spaces")
        sentence = Sentence([str(t) for t in tokens], [str(t) for t in tags], number)
        sentence.tags = _checked_iob2(path, sentence)
        sentences.append(sentence)
    return sentences


def types_of(sentences: list[Sentence]) -> list[str]:
    """The entity types used in the sentences' tags, sorted."""
    return sorted({tag_type(t) for s in sentences for t in (s.tags or []) if t != "O"})


def check_tags(sentences: list[Sentence], allowed: list[str], path: str | Path) -> None:
    """Every tag must be in ``allowed`` (the training tag set); else DataError at its line."""
    known = set(allowed)
    for sentence in sentences:
        if sentence.tags is None:
            raise DataError(path, "has no tag column", row=sentence.line, fix="put the gold tag in the last column")
        for i, tag in enumerate(sentence.tags):
            if tag not in known:
                raise DataError(path, f"tag {tag!r} is not in the training tag set {sorted(known)}",
                                row=sentence.line_of(i), fix="add training sentences with it or drop it")


def write_conll_predictions(src: str | Path, dest: str | Path, predicted: list[list[str]]) -> int:
    """Copy the CoNLL file ``src`` to ``dest`` with a predicted tag appended to each token line.

    One output line per input line: blank lines are kept as they are, ``-DOCSTART-`` lines get
    ``O`` so every non-blank line has the same number of columns (what conlleval reads).
    ``predicted`` holds one tag list per sentence of ``read_conll(src)``. Returns lines written.
    """
    lines = file_lines(src)
    flat = iter(tag for tags in predicted for tag in tags)
    out = []
    for raw in lines:
        cols = raw.split()
        if not cols:
            out.append(raw)
            continue
        sep = "\t" if "\t" in raw else " "
        tag = "O" if cols[0] == DOCSTART else next(flat, None)
        if tag is None:
            raise ValueError(f"fewer predicted tags than tokens in {src}")
        out.append(f"{raw.rstrip()}{sep}{tag}")
    if next(flat, None) is not None:
        raise ValueError(f"more predicted tags than tokens in {src}")
    with atomic_path(dest) as tmp:
        tmp.write_text("\n".join(out) + "\n", encoding="utf-8")
    return len(out)
