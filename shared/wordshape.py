"""Word shapes for token tagging on an uncased base: the capitalisation the tokenizer throws away.

MiniLM's tokenizer lowercases, so "Apple" and "apple" reach the encoder as the same ids, yet
capitalisation is the strongest cue for names in newswire. Each word's shape is read from the
ORIGINAL text and fed to the tag head as a small learned embedding next to every sub-token's
hidden state (``shared.tagging.TagHead``). Sub-tokens get their word's shape; special and
padding tokens get ``none``.

    word_shape("Apple") == SHAPES.index("title");  word_shape("IBM") == SHAPES.index("upper")
"""

from __future__ import annotations

SHAPES = ("none", "upper", "title", "lower", "digits", "punct", "mixed")
SHAPE_DIM = 16  # size of the learned shape embedding


def word_shape(word: str) -> int:
    """The shape class (index into SHAPES) of one word, from its original characters."""
    letters = [c for c in word if c.isalpha()]
    digits = any(c.isdigit() for c in word)
    if not letters:
        return SHAPES.index("digits" if digits else "punct")
    if digits:
        return SHAPES.index("mixed")
    if all(c.isupper() for c in letters):
        return SHAPES.index("upper")
    if letters[0].isupper() and all(c.islower() for c in letters[1:]):
        return SHAPES.index("title")
    if all(c.islower() for c in letters):
        return SHAPES.index("lower")
    return SHAPES.index("mixed")


def subtoken_shapes(word_ids: list[int | None], words: list[str]) -> list[int]:
    """Per sub-token shape ids: the shape of the word it comes from, 0 (``none``) for special tokens."""
    shapes = [word_shape(w) for w in words]
    return [0 if w is None else shapes[w] for w in word_ids]


def batch_shapes(encoding, token_lists: list[list[str]]):
    """A LongTensor [batch, seq] of shape ids for a tokenizer ``encoding`` of pre-split sentences."""
    import torch

    return torch.tensor([subtoken_shapes(encoding.word_ids(i), words) for i, words in enumerate(token_lists)])
