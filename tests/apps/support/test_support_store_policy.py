"""Store, analytics, thresholds and calibration (no model)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import ValidationError

from apps.support import analytics
from apps.support.calibrate import Features, fit_answer, fit_handover, halves
from apps.support.policy import Thresholds, decide, load_thresholds, save_thresholds
from apps.support.settings import SupportSettings
from apps.support.store import SupportStore
from shared.errors import LorasuiteError


def _turn(store: SupportStore, cid: int, text: str, intent: str | None, reason: str, escalate: bool = False) -> int:
    with store.db.transaction() as tx:
        store.add_message(cid, "user", text, tx=tx, intent=intent, confidence=0.9, reason=reason)
        if escalate:
            store.open_ticket(tx, cid, reason, text)
        return store.add_message(cid, "bot", "answer", tx=tx, sources=[{"url": f"{intent}.md#answer"}],
                                 escalate=escalate, reason=reason)


def test_migrations_run_once_and_feedback_is_one_vote_per_message():
    store = SupportStore()
    assert SupportStore(store.db).db.migrate("support", []) == 0
    cid = store.new_conversation("web")
    answer = _turn(store, cid, "I lost my card", "lost_or_stolen_card", "article")
    store.feedback(answer, 1)
    store.feedback(answer, -1)
    assert store.db.query("SELECT rating FROM support_feedback") == [{"rating": -1}]
    with pytest.raises(LorasuiteError, match="no message #999"):
        store.feedback(999, 1)
    with pytest.raises(ValueError):
        store.feedback(answer, 5)


def test_previous_turn_follows_the_topic_through_followups():
    store = SupportStore()
    cid = store.new_conversation()
    _turn(store, cid, "I lost my card", "lost_or_stolen_card", "article")
    _turn(store, cid, "how long does that take?", "lost_or_stolen_card", "followup")
    previous = store.previous_turn(cid)
    assert previous["text"] == "I lost my card" and previous["intent"] == "lost_or_stolen_card"
    assert previous["cited"] == ["lost_or_stolen_card.md#answer", "lost_or_stolen_card.md#answer"]
    assert store.previous_turn(store.new_conversation()) is None


def test_tickets_agent_reply_and_close():
    store = SupportStore()
    cid = store.new_conversation()
    _turn(store, cid, "agent please", None, "human", escalate=True)
    _turn(store, cid, "hello?", None, "waiting_for_agent", escalate=True)
    tickets = store.tickets("open")
    assert len(tickets) == 1 and tickets[0]["reason"] == "human"
    with pytest.raises(LorasuiteError, match="empty"):
        store.agent_reply(tickets[0]["id"], "  ")
    store.agent_reply(tickets[0]["id"], "Hi, how can I help?")
    store.close_ticket(tickets[0]["id"])
    assert store.tickets("open") == [] and store.conversation(cid)["status"] == "closed"
    assert store.messages(cid)[-1]["role"] == "agent"


def test_analytics_summary():
    store = SupportStore()
    a, b, c = (store.new_conversation() for _ in range(3))
    up = _turn(store, a, "I lost my card", "lost_or_stolen_card", "article")
    down = _turn(store, b, "exchange rate?", "exchange_rate", "article")
    _turn(store, c, "weather in Rome", "exchange_rate", "out_of_scope", escalate=True)
    store.feedback(up, 1)
    store.feedback(down, -1)
    s = analytics.summary(store)
    assert (s["conversations"], s["handed_over"], s["open_tickets"]) == (3, 1, 1)
    assert s["containment"] == pytest.approx(2 / 3)
    assert (s["thumbs_up"], s["thumbs_down"]) == (1, 1)
    assert s["top_intents"][0] == {"intent": "exchange_rate", "n": 2}
    assert {u["text"] for u in s["unanswered"]} == {"weather in Rome", "exchange rate?"}
    assert s["handover_reasons"] == [{"reason": "out_of_scope", "n": 1}]
    assert analytics.summary(SupportStore())["conversations"] == 3


def test_decide_bands():
    t = Thresholds(answer_confidence=0.7, answer_margin=0.2, min_similarity=0.3, unsure_similarity=0.45,
                   handover_margin=0.5)
    assert decide(t, 0.9, 0.5, 0.6) == "article"
    assert decide(t, 0.9, 0.1, 0.6) == "passages"  # sure, but the runner-up is close
    assert decide(t, 0.5, 0.4, 0.6) == "passages"
    assert decide(t, 0.5, 0.4, 0.4) == "low_confidence"  # only moderately close AND unsure
    assert decide(t, 0.9, 0.8, 0.4) == "article"  # moderately close but sure
    assert decide(t, 0.99, 0.9, 0.2) == "out_of_scope"
    assert decide(t, None, None, 0.6) == "passages" and decide(t, None, None, None) == "out_of_scope"


def test_threshold_precedence_config_over_file_over_defaults(tmp_path, monkeypatch):
    from apps.support import policy

    shipped = tmp_path / "shipped.json"
    monkeypatch.setattr(policy, "files", lambda: [policy.state_dir("support") / "thresholds.json", shipped])
    assert load_thresholds({}, "intent").source == "defaults"
    shipped.write_text(json.dumps({"intent": {"min_similarity": 0.2}}))
    assert load_thresholds({}, "intent").min_similarity == 0.2
    path = save_thresholds("intent", Thresholds(0.8, 0.3, 0.25, 0.4, 0.5))
    loaded = load_thresholds({}, "intent")
    assert (loaded.answer_confidence, loaded.source) == (0.8, str(path))
    assert json.loads(path.read_text())["intent"]["min_similarity"] == 0.25
    assert load_thresholds({}, "other").source == "defaults"
    mixed = load_thresholds(SupportSettings(margin_threshold=0.05), "intent")
    assert (mixed.answer_confidence, mixed.answer_margin) == (0.8, 0.05) and mixed.source.endswith("+ config")
    with pytest.raises(ValidationError, match="confidence_threshold"):
        SupportSettings(confidence_threshold="high")


def test_calibration_picks_sensible_thresholds():
    rng = np.random.default_rng(0)
    n = 400
    conf = rng.uniform(0.2, 1.0, n)
    right = rng.uniform(0, 1, n) < conf  # calibrated: right about conf of the time
    gold = ["a"] * n
    predicted = ["a" if r else "b" for r in right]
    inscope = Features(conf, conf / 2, rng.uniform(0.35, 0.8, n), predicted)
    oos = Features(rng.uniform(0.05, 0.6, 100), rng.uniform(0, 0.2, 100), rng.uniform(0.0, 0.4, 100), ["a"] * 100)
    answer_conf, margin, report = fit_answer(inscope, gold, target=0.95)
    chosen = (conf >= answer_conf) & (conf / 2 >= margin)
    assert report["precision"] >= 0.95 and np.mean(right[chosen]) >= 0.95 and 0.8 <= answer_conf < 1.0
    low, high, unsure, hand = fit_handover(inscope, oos)
    assert hand["fpr"] <= 0.10 and hand["tpr"] > 0.8 and low <= high <= 0.5
    sims_in, sims_out = inscope.similarity, oos.similarity
    flagged_in = (sims_in < low) | ((sims_in < high) & (inscope.margin < unsure))
    flagged_out = (sims_out < low) | ((sims_out < high) & (oos.margin < unsure))
    assert flagged_in.mean() == pytest.approx(hand["fpr"]) and flagged_out.mean() == pytest.approx(hand["tpr"])
    cal, hold = halves(10)
    assert len(cal) == 5 and not set(cal) & set(hold)
