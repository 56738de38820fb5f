"""The engine with the real MiniLM on the micro catalogue: users, typed interests, cold items, feedback."""

import pytest

from apps.recommender.app import service_of
from apps.recommender.engine import Engine
from shared.errors import LorasuiteError
from shared.home import state_dir


@pytest.fixture
def rec(micro_store, minilm, ctx):
    """The context's recommender service on the micro catalogue."""
    return service_of(ctx)


@pytest.fixture
def engine(rec):
    return rec.engine("none")


def ids(cards):
    return [c.item_id for c in cards]


def test_for_user_excludes_seen_items_and_explains(engine):
    cards = engine.for_user("space1", k=5)
    assert not set(ids(cards)) & {"s1", "s2", "s3", "m2"}
    assert set(ids(cards)[:2]) == {"s4", "x1"}  # the unread space books come first
    assert all(c.reason for c in cards)
    assert any(c.reason.startswith("because you liked ") for c in cards)


def test_cold_item_is_recommended_by_its_text_and_says_so(engine):
    assert engine.signals.cold[engine.positions["x1"]]
    cards = {c.item_id: c for c in engine.for_user("space2", k=4)}
    assert "x1" in cards and "new: no ratings yet" in cards["x1"].reason


def test_typed_interest_profile_with_real_minilm(engine):
    cards = engine.query("slow-burn space opera with a strong heroine", k=4)
    assert set(ids(cards[:3])) <= {"s1", "s2", "s3", "x1"}
    assert "matches: slow, burn, space, opera" in {c.item_id: c.reason for c in cards}["s3"]
    baking = engine.query("I want to bake sourdough loaves", k=2)
    assert ids(baking)[0] == "c2" and "bake" in baking[0].reason and "loaves" in baking[0].reason


def test_history_and_interest_together(engine):
    cards = engine.for_user("myst2", k=3, interest="cosy village mystery with tea and gossip")
    assert ids(cards)[0] in {"m4", "m1"} or ids(cards)[0] == "m4"
    assert "matches:" in cards[0].reason or "close in meaning" in cards[0].reason


def test_unknown_user_gets_popular_items(engine):
    cards = engine.for_user("nobody", k=3)
    assert len(cards) == 3 and all(c.reason.startswith("popular (") for c in cards)
    assert engine.for_users(["nobody", "space1"], k=3)[0] == ids(cards)


def test_like_changes_the_list_at_once_and_is_stored(engine, rec, micro_store):
    before = ids(engine.for_user("newbie", k=3))
    rec.record_feedback("newbie", "c2", liked=True)
    after = rec.engine("none").for_user("newbie", k=3)
    assert rec.engine("none") is engine  # no rebuild for a click
    assert ids(after) != before and "c2" not in ids(after)
    assert ids(after)[0] in {"c1", "c3"} and "because you liked Bread Every Day" in after[0].reason
    assert micro_store.db.scalar("SELECT count(*) FROM recommender_interactions WHERE source = 'feedback'") == 1
    # session likes (no profile) work the same way without storing anything
    session = engine.for_user(None, k=2, session=[("m1", 1.0)])
    assert set(ids(session)) <= {"m2", "m3", "m4"}


def test_more_like_this(engine):
    cards = engine.more_like("m1", k=3)
    warm = [c for c in cards if not engine.signals.cold[engine.positions[c.item_id]]]  # the new-item slot aside
    assert "m1" not in ids(cards) and set(ids(warm)) <= {"m2", "m3", "m4"} and len(warm) >= 2
    assert "Murder at the Vicarage Fete" in cards[0].reason
    with pytest.raises(LorasuiteError, match="unknown item_id"):
        engine.more_like("nope")


def test_item_vectors_are_cached_on_disk(engine, micro_store):
    cached = list(state_dir("indexes", "recommender").glob("*/index.faiss"))
    assert len(cached) == 1
    again = Engine(micro_store.snapshot())
    assert (again.signals.base == engine.signals.base).all()


def test_empty_catalogue_is_a_clear_error(ctx):
    with pytest.raises(LorasuiteError, match="no items imported yet"):
        service_of(ctx).engine("none")


def test_start_loads_the_demo_books_once(minilm, make_ctx):
    from apps.recommender.app import spec

    ctx = make_ctx(recommender={"adapter": "none"})
    notices = spec.start(ctx)
    assert notices == ["no recommender adapter found: ranking with the frozen MiniLM"]
    store = service_of(ctx).store
    assert store.count("items") == 260 and store.count("interactions") == 2903
    assert spec.health() is True
    spec.stop()
    again = make_ctx(recommender={"adapter": "none"})
    assert spec.start(again) == notices  # idempotent, nothing re-imported
    assert store.count("interactions") == 2903 and store.count("imports") == 2
    cards = service_of(again).engine().for_user("u001", k=5)
    assert len(cards) == 5 and all(c.reason for c in cards)
    spec.stop()
