"""The demo page: builds without models; handlers recommend, take likes, explore, escape text."""

import gradio as gr
import pytest

from apps.recommender import service, ui
from apps.recommender.engine import Recommendation


@pytest.fixture
def page(micro_store, minilm, monkeypatch):
    service.stop()
    monkeypatch.setattr(ui, "_engine", lambda: service.get_engine("none", store=micro_store))
    yield
    service.stop()


def test_build_loads_no_model(monkeypatch):
    monkeypatch.setattr(service, "get_engine", lambda *a, **k: pytest.fail("model loaded at build time"))
    assert isinstance(ui.build(), gr.Blocks)


def test_cards_escape_item_text():
    card = Recommendation("x", "<script>alert(1)</script>", "a & b", 1.0, "because you liked <b>", {"author": "<i>"})
    out = ui.card_html(card)
    assert "<script>" not in out and "&lt;script&gt;" in out and "&lt;b&gt;" in out and "&lt;i&gt;" in out


def test_pick_user_like_and_more_like_this(page, micro_store):
    out = ui.recommend("space1", "", [])
    heading, _, history, shown, session = out[:5]
    assert "space1" in heading and "5★ Orbit of Ash" in history
    assert len(shown) == ui.SLOTS and not set(shown) & {"s1", "s2", "s3", "m2"}
    assert "because you liked" in out[5]
    liked = ui.feedback(shown.index("s4"), True, "space1", "", [], shown)
    assert "Liked *Red Planet Engineers*" in liked[1] and "s4" not in liked[3]
    assert micro_store.db.scalar("SELECT count(*) FROM recommender_interactions WHERE source = 'feedback'") == 1
    more = ui.more_like(0, "space1", [], liked[3])
    assert more[0].startswith("### More like") and not set(more[3]) & {"s1", "s2", "s3", "m2", "s4"}


def test_typed_interest_and_session_dislike(page):
    out = ui.recommend(ui.NOBODY, "sourdough bread baking", [])
    shown = out[3]
    assert shown[0] == "c2" and "matches:" in out[5]
    after = ui.feedback(0, False, ui.NOBODY, "sourdough bread baking", [], shown)
    assert after[4] == [("c2", -1.0)] and "c2" not in after[3] and "👎 Bread Every Day" in after[2]


def test_guard_turns_errors_into_warnings(page):
    with pytest.warns(UserWarning, match="that card is empty"):  # a user error: its message, no exception
        out = ui._guard(ui.feedback)(3, True, None, "", [], [])
    assert len(out) == 5 + 2 * ui.SLOTS
    with pytest.warns(UserWarning, match="Something went wrong on our side"):  # a bug: logged, short notice
        assert ui._guard(lambda: 1 / 0, 1)() is not None
