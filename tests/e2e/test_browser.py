"""End to end in a real browser: the three apps as a person uses them."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shot

pytestmark = pytest.mark.e2e
expect.set_options(timeout=90_000)  # the first answer of a cold server on 2 busy cores can take a while


def _send(page, text: str) -> None:
    box = page.get_by_placeholder("e.g. I lost my card")
    box.fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def test_support_answer_with_source_then_handover_to_inbox(page, suite_url):
    page.goto(suite_url + "/support/")
    _send(page, "I lost my card")
    chat = page.locator("[data-testid='bot']").last
    expect(chat).to_contain_text(re.compile("card", re.I))
    expect(page.get_by_text(re.compile("Lost or stolen card", re.I)).first).to_be_visible()
    _send(page, "I want to talk to a human")
    expect(page.locator("[data-testid='bot']").last).to_contain_text(re.compile("hand|human|agent|person", re.I))
    shot(page, "support-chat")
    page.goto(suite_url + "/support/admin/")  # the agents' page: the suite's admin login
    _login(page)
    expect(page.get_by_text(re.compile("lost my card", re.I)).last).to_be_visible()
    shot(page, "support-inbox")


def _login(page) -> None:
    page.get_by_label(re.compile("username", re.I)).fill("admin")
    page.get_by_label(re.compile("password", re.I)).fill("e2e-secret")
    page.get_by_role("button", name=re.compile("login", re.I)).click()


def test_finance_dashboard_needs_login_and_shows_trend_and_alert(page, suite_url):
    page.goto(suite_url + "/sentiment/")
    _login(page)
    expect(page.get_by_text("Financial news monitor")).to_be_visible()
    header = page.get_by_text(re.compile(r"open alerts")).first
    deadline = time.time() + 300  # the demo headlines are scored and checked in the background after boot
    while not re.search(r"[1-9]\d*\s*open alerts", header.inner_text()) and time.time() < deadline:
        time.sleep(5)
        page.get_by_role("button", name="Refresh").first.click()
    expect(header).to_contain_text(re.compile(r"[1-9]\d*\s*open alerts"))
    expect(page.get_by_text("processing")).to_have_count(0)
    expect(page.locator("img").first).to_be_visible()
    shot(page, "sentiment-trends")
    page.get_by_role("tab", name="Alerts").click()
    expect(page.get_by_text(re.compile("Boeing", re.I)).first).to_be_visible()
    shot(page, "sentiment-alerts")


def test_recommender_cards_change_after_a_like(page, suite_url):
    page.goto(suite_url + "/recommend/")  # the old spelling redirects to /recommender/
    cards = page.locator("div[style*='border-radius:8px']")
    expect(cards.first).to_be_visible()  # popular picks on first load, before anything is typed
    assert page.url.rstrip("/").endswith("/recommender")
    page.get_by_label("Interests").fill("slow-burn space opera with a strong heroine")
    page.get_by_role("button", name="Recommend").click()
    cards = page.locator("div[style*='border-radius:8px']")
    try:
        expect(cards.first).to_be_visible()
    finally:
        shot(page, "recommender-first")
    before = cards.all_inner_texts()
    page.get_by_role("button", name="👍").first.click()
    expect(cards.first).to_be_visible()
    page.wait_for_function(
        "(b) => Array.from(document.querySelectorAll(\"div[style*='border-radius:8px']\")).map(e => e.innerText).join('|') !== b",
        arg="|".join(before))
    shot(page, "recommender")
