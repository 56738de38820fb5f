"""Support fixtures: an inline micro help centre, its index (built once), a real-format intent adapter.

``proto_intent`` is a genuine registry adapter for the real MiniLM: a freshly initialised
LoRA (B = 0, so it leaves the encoder unchanged) plus a linear head whose rows are the
normalised centroids of a few example questions per intent: a nearest-centroid classifier
that is deterministic and costs seconds instead of a training run.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest

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


@pytest.fixture
def kb_dir(tmp_path) -> Path:
    """A fresh copy of the micro help centre (safe to edit)."""
    return write_kb(tmp_path / "kb")


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, minilm) -> Path:
    """The micro help centre ingested once with the real MiniLM; copied into each test's home."""
    from apps.support.ingest import ingest

    root = tmp_path_factory.mktemp("support-index")
    ingest([write_kb(root / "kb")], path=root / "index")
    return root / "index"


@pytest.fixture
def index_home(lorasuite_home, built_index) -> Path:
    """This test's LORASUITE_HOME with the micro help-centre index in place."""
    dest = lorasuite_home / "indexes" / "support"
    shutil.copytree(built_index, dest)
    return dest


@pytest.fixture(scope="session")
def proto_intent(tmp_path_factory, minilm) -> Path:
    """Folder of a nearest-centroid intent adapter for the real MiniLM (see the module docstring)."""
    import torch

    from shared import adapters
    from shared.adapters import TrainedAdapter
    from shared.lora import wrap
    from shared.models import load_encoder, resolve
    from shared.settings import LoraSettings

    labels = sorted(EXAMPLES)
    rows = []
    for label in labels:
        raw = minilm.encode(EXAMPLES[label], normalize=False)
        rows.append(raw.mean(axis=0))
    weight = np.stack(rows)
    norms = np.linalg.norm(weight, axis=1, keepdims=True)
    weight = weight / norms**2 * 12.0  # logit ~ 12 * cos * |x|/|c|: sharp for close questions
    peft_model = wrap(load_encoder(resolve("minilm")), LoraSettings())
    head = {"linear.weight": torch.tensor(weight, dtype=torch.float32),
            "linear.bias": torch.zeros(len(labels), dtype=torch.float32)}
    meta = {"task": "classify", "base_model": "minilm", "labels": labels, "pooling": "mean", "temperature": 1.0,
            "max_length": 64, "metrics": {}}
    root = tmp_path_factory.mktemp("proto-adapter")
    return adapters.save("support", "proto_intent", TrainedAdapter(peft_model, head, meta), root=root)


@pytest.fixture
def bot(index_home, proto_intent):
    """A SupportBot on the micro help centre and the prototype intent adapter."""
    from apps.support.bot import SupportBot

    return SupportBot(adapter=str(proto_intent))
