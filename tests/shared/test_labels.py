"""Labels from the apps: deduplicated by text hash, last label wins, a fixed held-back share."""

from shared import labels
from shared.storage import shared_database


def test_last_label_wins_and_counts_new_and_changed():
    db = shared_database()
    first = labels.record(db, "sentiment", "sentiment", [("Profit up", "positive"), ("Profit  up ", "neutral"),
                                                        ("Loss widens", "negative")], source="cli", who="ana")
    assert first == {"labels": 3, "new": 2, "changed": 0}  # the two spellings of one text: the last wins
    rows = {r.text: r for r in labels.labels(db, "sentiment", "sentiment")}
    assert rows["Profit up"].label == "neutral" and rows["Profit up"].who == "ana"
    again = labels.record(db, "sentiment", "sentiment", [("Loss widens", "negative")], source="dashboard", who="bo")
    assert again == {"labels": 1, "new": 0, "changed": 0}  # the same label again changes nothing
    through = labels.last_id(db, "sentiment", "sentiment")
    changed = labels.record(db, "sentiment", "sentiment", [("Profit up", "positive")], source="dashboard", who="bo")
    assert changed == {"labels": 1, "new": 0, "changed": 1}
    current = labels.labels(db, "sentiment", "sentiment")
    assert len(current) == 2 and {r.text: r.label for r in current}["Profit up"] == "positive"
    newer = labels.labels(db, "sentiment", "sentiment", since=through)  # a relabel counts as new data
    assert [(r.text, r.source, r.who) for r in newer] == [("Profit up", "dashboard", "bo")]
    assert labels.count(db, "sentiment", "sentiment", since=through) == 1
    assert labels.known(db, "sentiment", "sentiment", ["Profit up", "other"]) == {"Profit up": "positive"}
    assert labels.labels(db, "support", "intent") == []  # apps and tasks are separate


def test_held_back_share_is_fixed_per_text():
    db = shared_database()
    texts = [f"headline number {i}" for i in range(1000)]
    labels.record(db, "a", "t", [(t, "x") for t in texts], source="cli", who="me")
    train, held = labels.split(labels.labels(db, "a", "t"), share=0.2)
    assert 150 < len(held) < 250 and len(train) + len(held) == 1000
    labels.record(db, "a", "t", [(texts[0], "y"), ("one more", "x")], source="cli", who="me")
    train2, held2 = labels.split(labels.labels(db, "a", "t"), share=0.2)
    assert {r.text for r in held} <= {r.text for r in held2}  # a held-back text stays held back
    assert not {r.text for r in held2} & {r.text for r in train2}
