"""The micro help centre and example questions the support tests share (imported by conftest)."""

from __future__ import annotations

import textwrap
from pathlib import Path

ARTICLES = {
    "lost_or_stolen_card": ("Lost or stolen card", "card, lost, stolen, freeze", """
        ## Answer
        If your card is lost or stolen, freeze it straight away in the app under Cards > Freeze, then order a
        replacement. Frozen cards cannot be used by anyone.

        ## Steps
        1. Open Cards and tap Freeze.
        2. Tap Order replacement and confirm your address.

        ## How long does it take
        A replacement card arrives in 3 to 5 working days; express delivery takes 1 to 2 working days.

        ## Fees
        A replacement after loss or theft costs £5. Express delivery costs £5 more.
        """),
    "card_arrival": ("My card hasn't arrived", "card, delivery, post", """
        ## Answer
        Cards are posted within one working day of ordering and usually arrive within 5 working days. You can
        track the delivery under Cards > Track.

        ## Steps
        1. Check the delivery address in Profile.
        2. If 10 working days have passed, report the card as not received.

        ## How long does it take
        Standard delivery takes up to 5 working days in the UK.
        """),
    "exchange_rate": ("Our exchange rates", "exchange, currency, rate, FX", """
        ## Answer
        We convert currencies at the live interbank rate with no markup up to £1,000 per month.

        ## Steps
        1. Open Exchange.
        2. Pick the currencies and the amount.

        ## Fees
        Above £1,000 per month a 0.5% fee applies; at weekends an extra 0.5% applies.
        """),
    "top_up_by_bank_transfer_charge": ("Topping up by bank transfer", "top-up, bank transfer, SEPA", """
        ## Answer
        Topping up by bank transfer is free. Use the account number and sort code shown under Add money.

        ## How long does it take
        Faster Payments arrive within 2 hours; SEPA transfers take 1 working day.
        """),
}
POLICY = """---
title: Security and scams
intent: policy
tags: [security, fraud]
---

## Scams
We will never ask for your PIN or your one-time passcode. Error code NW-7734 means the app blocked a
suspicious login; reset your passcode to clear it.
"""
EXAMPLES = {
    "lost_or_stolen_card": ["I lost my card", "my card was stolen", "I can't find my card anywhere",
                            "someone stole my wallet with my card"],
    "card_arrival": ["my card hasn't arrived yet", "where is my new card", "still waiting for my card",
                     "the card you sent never came"],
    "exchange_rate": ["what exchange rate do you use", "how much is the currency conversion rate",
                      "is your FX rate fair", "rate for converting euros to pounds"],
    "top_up_by_bank_transfer_charge": ["is it free to top up by bank transfer", "fee for adding money by transfer",
                                       "do you charge for bank transfer top-ups", "top up via SEPA cost"],
}


def write_kb(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for intent, (title, tags, body) in ARTICLES.items():
        text = f"---\ntitle: {title}\nintent: {intent}\ntags: [{tags}]\n---\n{textwrap.dedent(body)}"
        (folder / f"{intent}.md").write_text(text, encoding="utf-8")
    (folder / "policy_security.md").write_text(POLICY, encoding="utf-8")
    return folder


# The prototype adapter's probabilities are softer than a trained one's: the tests pin their own
# thresholds (through the config file every bot reads) instead of the ones calibrated for the shipped adapter.
TEST_THRESHOLDS = """[support]
confidence_threshold = 0.5
margin_threshold = 0.2
similarity_threshold = 0.3
unsure_similarity = 0.0
handover_margin = 0.0
"""


def pinned_ctx(**support):
    """An AppContext with the test thresholds plus the given ``[support]`` keys."""
    import tomllib

    from apps.config import validate
    from apps.context import AppContext
    from apps.spec import discover

    values = tomllib.loads(TEST_THRESHOLDS)
    values["support"].update(support)
    specs = discover()
    return AppContext.create(specs=specs, config=validate(values, None, specs))


def file_ctx():
    """An AppContext on this test's config file (``$LORASUITE_CONFIG``)."""
    from apps.context import AppContext

    return AppContext.create()
