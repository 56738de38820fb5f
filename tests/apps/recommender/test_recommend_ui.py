"""The page: builds without models; visitors have their own profile; demo readers only in demo mode."""

import gradio as gr
import pytest

from apps.recommender import ui
from apps.recommender.app import service_of
from apps.recommender.engine import Recommendation
from shared.errors import LorasuiteError

TOKEN = "k" * 22


@pytest.fixture
def svc(micro_store, minilm, make_ctx):
    return service_of(make_ctx(recommender={"adapter": "none"}))


def test_build_loads_no_model(ctx, monkeypatch):
    from apps.recommender.service import RecommenderService

    monkeypatch.setattr(RecommenderService, "engine", lambda *a, **k: pytest.fail("model loaded at build time"))
    assert isinstance(ui.build(ctx), gr.Blocks)


def test_cards_escape_item_text():
    card = Recommendation("x", "<script>alert(1)</script>", "a & b", 1.0, "because you liked <b>", {"author": "<i>"})
    out = ui.card_html(card)
    assert "<script>" not in out and "&lt;script&gt;" in out and "&lt;b&gt;" in out and "&lt;i&gt;" in out


def test_first_load_gives_a_profile_and_popular_picks(svc):
    token, readers, heading, _, history, shown, *_ = ui.first_load(svc, None)
    assert len(token) >= 20 and token != ui.first_load(svc, None)[0]  # a fresh random id per browser
    assert ui.first_load(svc, token)[0] == token and ui.first_load(svc, "../x")[0] != "../x"
    assert "space1" in readers["choices"] and readers["visible"] is True  # demo mode
    assert len(shown) == ui.SLOTS and "No history yet" in history and "for you" in heading


def test_demo_reader_like_and_more_like_this(svc, micro_store):
    out = ui.recommend(svc, "space1", "", TOKEN)
    heading, _, history, shown = out[:4]
    assert "space1" in heading and "5★ Orbit of Ash" in history
    assert len(shown) == ui.SLOTS and not set(shown) & {"s1", "s2", "s3", "m2"}
    assert "because you liked" in out[4]
    assert "Red Planet Engineers" in open(out[-1], encoding="utf-8-sig").read()  # the list as CSV
    with pytest.raises(LorasuiteError, match="read-only"):  # nobody likes in a demo reader's name
        ui.feedback(svc, shown.index("s4"), True, "space1", "", TOKEN, shown)
    more = ui.more_like(svc, 0, "space1", TOKEN, shown)
    assert more[0].startswith("### More like") and not set(more[3]) & {"s1", "s2", "s3", "m2"}


def test_visitor_profile_is_stored_and_private(svc, micro_store):
    out = ui.recommend(svc, ui.YOU, "sourdough bread baking", TOKEN)
    shown = out[3]
    assert shown[0] == "c2" and "matches:" in out[4]
    after = ui.feedback(svc, 0, False, ui.YOU, "sourdough bread baking", TOKEN, shown)
    assert "c2" not in after[3] and "👎 Bread Every Day" in after[2]
    assert micro_store.db.scalar("SELECT count(*) FROM recommender_interactions WHERE user_id = :u",
                                 {"u": ui.VISITOR + TOKEN}) == 1
    other = ui.recommend(svc, ui.YOU, "", "z" * 22)  # another browser sees none of it
    assert "Bread Every Day" not in other[2]
    with pytest.raises(LorasuiteError, match="no demo reader"):
        ui.recommend(svc, ui.VISITOR + TOKEN, "", "z" * 22)


def test_production_has_no_demo_readers(micro_store, minilm, make_ctx):
    svc = service_of(make_ctx(suite={"production": True}, auth={"admin_password": "x" * 16},
                              recommender={"adapter": "none"}))
    _, readers, *_ = ui.first_load(svc, None)
    assert readers["choices"] == [ui.YOU] and readers["visible"] is False
    with pytest.raises(LorasuiteError, match="demo readers are off"):
        ui.recommend(svc, "space1", "", TOKEN)


def test_guard_turns_errors_into_warnings(svc):
    with pytest.warns(UserWarning, match="that card is empty"):  # a user error: its message, no exception
        out = ui._guard(ui.feedback)(svc, 3, True, None, "", TOKEN, [])
    assert len(out) == ui.OUTPUTS == 5 + 2 * ui.SLOTS
    with pytest.warns(UserWarning, match="Something went wrong on our side"):  # a bug: logged, short notice
        assert ui._guard(lambda: 1 / 0, 1)() is not None
