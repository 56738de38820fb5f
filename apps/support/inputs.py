"""What the bot checks in a customer message before any model sees it.

- ``clean``: control characters out, whitespace tidied, over-long messages truncated with a
  notice (the stored text is the cleaned one; HTML is kept as plain text and escaped by the UI);
- ``asks_for_human``: the customer wants a person (hand over at once, whatever the intent);
- ``is_followup``: a short message leaning on the previous turn ("and how long does that take?");
- ``mostly_unsupported_script``: text the English-only encoder cannot read (CJK, Cyrillic, ...).
"""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")

_HUMAN = re.compile(
    r"\b(human|humans|human being|real person|actual person|live person|(live|real|support|human)[ -]agent|"
    r"agent|agents|representative|operator|supervisor|manager|member of staff|staff member|staff|colleague|"
    r"colleagues|customer (support|service|care)|call ?back|someone from your team|somebody in person)\b|"
    r"\b(speak|talk|chat)\w*\s+(to|with)\s+(someone|somebody|a person|anyone|a human|a real|an actual|a live)\b|"
    r"\b(not|no|don'?t want (to talk to )?)\s*(a |an )?(bot|chatbot|machine|automated)\b|"
    r"\bis (anyone|anybody) there\b|\b(reach|need) a person\b|\bconnect me\b",
    re.IGNORECASE)
# Banking questions that mention these words but do not ask for a person.
_NOT_HUMAN = re.compile(r"\b(do|must) i (have|need) to\b|\bshould i (contact|call)\b|\bto the agent\b|"
                        r"\bpoor customer service\b", re.IGNORECASE)

_FOLLOWUP_START = re.compile(r"^(and|but|also|so|then|ok(ay)?|what about|how about|what if|and if|"
                             r"is it|is that|does it|does that|will it|can i also)\b", re.IGNORECASE)
_ANAPHORA = re.compile(r"\b(that|it|this|those|these|them|there|one|then|again|longer)\b", re.IGNORECASE)


def clean(text: object, max_chars: int = MAX_CHARS) -> tuple[str, list[str]]:
    """The message as the bot reads and stores it, plus notices to show the customer."""
    notices: list[str] = []
    text = "" if text is None else str(text)
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    stripped = _CONTROL.sub(" ", text)
    if stripped != text:
        notices.append("Some invisible control characters were removed from your message.")
    text = re.sub(r"[ \t]+", " ", stripped)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if len(text) > max_chars:
        notices.append(f"Your message was very long ({len(text):,} characters), so I only read the first "
                       f"{max_chars:,}.")
        text = text[:max_chars].rstrip()
    return text, notices


def asks_for_human(text: str) -> bool:
    """True when the customer asks to talk to a person (or says they do not want a bot)."""
    return bool(_HUMAN.search(text)) and not _NOT_HUMAN.search(text)


def is_followup(text: str) -> bool:
    """A short message that starts like a continuation or points back ("that", "it", ...)."""
    words = text.split()
    if not words or len(words) > 12:
        return False
    return bool(_FOLLOWUP_START.search(text)) or bool(_ANAPHORA.search(text))


def mostly_unsupported_script(text: str) -> bool:
    """True when most letters are outside the Latin script (the encoder reads English)."""
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) < 2:
        return False
    latin = sum(1 for ch in letters if unicodedata.name(ch, "").startswith("LATIN"))
    return latin / len(letters) < 0.5


_SMALLTALK = {
    "greeting": re.compile(r"^(hi|hello|hey|hiya|good (morning|afternoon|evening))( there)?$"),
    "thanks": re.compile(r"^(thanks?( you)?( very much| a lot| so much)?|thank u|ty|cheers|great|perfect|ok(ay)? "
                         r"thanks?)$"),
    "goodbye": re.compile(r"^((thanks?|ok(ay)?) )?(bye|goodbye|see you|that'?s all)$"),
}


def smalltalk(text: str) -> str | None:
    """``greeting`` / ``thanks`` / ``goodbye`` when that is ALL the message says, else None."""
    words = re.sub(r"[^\w' ]+", " ", text.lower()).split()
    if not words or len(words) > 5:
        return None
    plain = " ".join(words)
    return next((kind for kind, pattern in _SMALLTALK.items() if pattern.match(plain)), None)


def looks_empty(text: str) -> bool:
    """Nothing a person could mean: no letters or digits at all."""
    return not any(ch.isalnum() for ch in text)
