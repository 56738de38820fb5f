"""Generate the customer-support slot-filling (NER) data set: train.jsonl and dev.jsonl.

The sentences are customer messages in the style of BANKING77 (short, informal,
sometimes lower-case, sometimes with typos), rendered from hand-written templates
and slot-value lists that live in this file. Everything here was written by the
lorasuite project (Apache-2.0); no external data is used.

Output format, one JSON object per line::

    {"tokens": ["I", "paid", "£20.50", "at", "Tesco", "yesterday"],
     "tags":   ["O", "O", "B-AMOUNT", "O", "B-MERCHANT", "B-DATE"]}

Entity types (BIO tags):

* AMOUNT    the number, plus a currency symbol if there is one: "50", "£20.50",
            "20€", "two hundred". A symbol written apart ("£ 20") is part of it.
* CURRENCY  currency words and codes: "euros", "USD", "GBP", "Swiss francs".
            "100 euros" is AMOUNT ("100") followed by CURRENCY ("euros").
* DATE      "yesterday", "last week", "12 March", "two days ago". A leading
            preposition is not part of the entity: in "on Monday" only "Monday"
            is tagged.
* CARD_TYPE "Visa", "Mastercard", "debit card", "virtual card", "credit card",
            "disposable card", "Visa card"... The bare word "card" is never tagged.
* MERCHANT  a business name only: "Amazon", "Tesco", "Uber". Descriptions such as
            "a petrol station in Lyon" and place names are not tagged.

About 30% of sentences contain no entity at all. Some contain numbers that are
not amounts ("3 times", "4 digits", "2 hours"), tagged O.

Tokenisation rule: split on whitespace, then split the punctuation characters
. , ! ? ; : ( ) " off the start and end of each piece into tokens of their own;
punctuation inside a piece stays, so "£20.50", "1,200" and "Booking.com" are one
token, and "£20.50." becomes "£20.50" + ".". ``tokenize`` below implements it.

Train and dev differ on purpose: dev draws half of its sentences from templates
that train never uses, and slot values are drawn from lists that include values
kept out of train (marked ``DEV_ONLY`` below), so a model must generalise.

Reproducible: the default seed gives the committed files byte for byte.

Usage::

    python data/support/slots/make_slots.py            # writes train.jsonl, dev.jsonl here
    python data/support/slots/make_slots.py --seed 1 --n-train 400 --n-dev 100 --out-dir /tmp/x
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

PUNCT = set('.,!?;:()"')
TYPES = ("AMOUNT", "CURRENCY", "DATE", "CARD_TYPE", "MERCHANT")


# ---------------------------------------------------------------------------
# Tokenisation
# ---------------------------------------------------------------------------

def tokenize_with_offsets(text: str) -> list[tuple[str, int, int]]:
    """Tokens with (start, end) character offsets, using the rule in the module docstring."""
    out = []
    for m in re.finditer(r"\S+", text):
        s, e = m.start(), m.end()
        lead = []
        while s < e and text[s] in PUNCT:
            lead.append((text[s], s, s + 1))
            s += 1
        trail = []
        while e > s and text[e - 1] in PUNCT:
            trail.append((text[e - 1], e - 1, e))
            e -= 1
        out.extend(lead)
        if s < e:
            out.append((text[s:e], s, e))
        out.extend(reversed(trail))
    return out


def tokenize(text: str) -> list[str]:
    """Split ``text`` into tokens (see module docstring)."""
    return [t for t, _, _ in tokenize_with_offsets(text)]


# ---------------------------------------------------------------------------
# Slot values. Values after the DEV_ONLY marker are used only in dev.
# ---------------------------------------------------------------------------

DEV_ONLY = object()


def split_values(values: list) -> tuple[list, list]:
    """Return (train_values, all_values) from a list containing the DEV_ONLY marker."""
    i = values.index(DEV_ONLY)
    return values[:i], values[:i] + values[i + 1:]


MERCHANTS = [
    "Amazon", "Tesco", "Uber", "Starbucks", "Netflix", "Spotify", "Sainsbury's", "Lidl",
    "Aldi", "McDonald's", "eBay", "Apple", "Google", "Ryanair", "easyJet", "Airbnb",
    "Booking.com", "Deliveroo", "Just Eat", "Zara", "H&M", "IKEA", "Primark", "Boots",
    "Argos", "ASOS", "Costa", "Pret", "Shell", "BP", "Esso", "Trainline", "TfL", "Steam",
    "PlayStation Store", "Currys", "John Lewis", "Waitrose", "Marks & Spencer", "Greggs",
    "Nando's", "Domino's", "KFC", "Burger King", "Carrefour", "Lufthansa", "Vueling", "Bolt",
    "Disney+", "Audible", "Decathlon", "Uniqlo", "Etsy", "Wizz Air", "Zalando", "Lime",
    DEV_ONLY,
    "Morrisons", "Five Guys", "Screwfix", "British Airways", "Hotels.com", "Monoprix",
    "Caffè Nero", "Ocado", "Superdrug", "Vinted", "Tk Maxx", "Wagamama",
]

# Card types: general list and a network-only list for "Visa or Mastercard" templates.
CARDS = [
    "debit card", "credit card", "virtual card", "disposable card", "physical card",
    "prepaid card", "Visa", "Mastercard", "Visa card", "Mastercard debit card",
    "American Express", "Amex", "Maestro", "Visa debit", "disposable virtual card",
    "virtual debit card", "credit Card", "Mastercard credit card",
    DEV_ONLY,
    "Visa Electron", "Amex card", "single-use virtual card", "Discover card",
    "Visa credit card", "prepaid Mastercard",
]
NETWORKS = ["Visa", "Mastercard", "Maestro", "American Express", "Amex",
            DEV_ONLY, "Discover", "Visa Electron"]

CURRENCY_WORDS = [
    "euros", "euro", "dollars", "US dollars", "pounds", "sterling", "Swiss francs", "yen",
    "zloty", "Australian dollars", "Canadian dollars", "Swedish krona", "Danish kroner",
    "forints", "rand", "dirhams", "quid",
    DEV_ONLY,
    "Norwegian kroner", "Turkish lira", "Mexican pesos", "Czech koruna", "Hong Kong dollars",
]
CURRENCY_CODES = [
    "EUR", "USD", "GBP", "CHF", "JPY", "PLN", "AUD", "CAD", "SEK", "HUF", "DKK", "ZAR", "AED",
    DEV_ONLY,
    "NOK", "TRY", "CZK", "SGD", "MXN",
]

NUMBER_WORDS = ["ten", "twenty", "thirty", "forty", "fifty", "two hundred", "five hundred",
                "a thousand", DEV_ONLY, "sixty", "three hundred", "eighty"]

# (prefix outside the entity, entity text)
DATES = [
    ("", "yesterday"), ("", "today"), ("", "this morning"), ("", "last night"),
    ("", "last week"), ("", "last month"), ("on ", "Monday"), ("on ", "Tuesday"),
    ("on ", "Friday"), ("on ", "Saturday"), ("on ", "Sunday"), ("", "last Friday"),
    ("", "two days ago"), ("", "3 days ago"), ("on ", "12 March"), ("on ", "the 5th"),
    ("on ", "1 June"), ("on ", "March 3rd"), ("", "earlier today"),
    ("", "the day before yesterday"), ("on ", "15/04"), ("", "a week ago"),
    ("", "this afternoon"), ("", "last weekend"), ("on ", "23rd of August"),
    ("in ", "January"), ("", "last Saturday"), ("on ", "2024-05-14"),
    DEV_ONLY,
    ("on ", "Wednesday"), ("", "last Thursday"), ("on ", "4 October"), ("", "five days ago"),
    ("on ", "the 28th"), ("", "yesterday evening"), ("on ", "2nd February"),
    ("in ", "December"), ("", "this week"), ("", "10 days ago"),
]
FUTURE_DATES = [
    ("", "next month"), ("", "next week"), ("on ", "30 June"), ("in ", "March"),
    ("", "tomorrow"), ("on ", "Friday"), ("at the ", "end of the month"), ("", "this weekend"),
    ("on ", "the 15th"),
    DEV_ONLY,
    ("", "next Tuesday"), ("on ", "1st September"), ("in ", "November"),
]

# Fillers tagged O: place names and generic shop descriptions are not merchants.
PLACES = ["Lyon", "Paris", "Barcelona", "Spain", "Berlin", "Italy", "Rome", "Lisbon",
          "the US", "China", "Dublin", "Amsterdam", "Krakow", "Greece", "Prague", "Japan"]
GENERIC_PLACES = ["a petrol station in Lyon", "a restaurant", "a small shop in Rome",
                  "the supermarket", "a hotel", "a cafe near work", "the corner shop",
                  "a market stall", "the airport", "a bar in Madrid"]
TIMES = ["3", "three", "4", "five", "several", "2", "too many"]

# ---------------------------------------------------------------------------
# Templates. Placeholders:
#   {MONEY} {MONEY2}  an amount, optionally with currency symbol/word/code
#   {CUR} {CUR2}      a currency word or code
#   {DATE}            a past date with its preposition ("on Monday"); {DATEB} bare ("Monday")
#   {FDATE}           a future date with preposition; {FDATEB} bare
#   {CARD} {CARD2}    a card type; {NET} {NET2} a card network
#   {MERCHANT} {MERCHANT2}
#   {PLACE} {GPLACE} {TIMES}  fillers tagged O
# ---------------------------------------------------------------------------

TRAIN_TEMPLATES = [
    "I paid {MONEY} at {MERCHANT} {DATE} but it's still pending",
    "why was I charged {MONEY} by {MERCHANT}?",
    "there is a payment of {MONEY} to {MERCHANT} that I don't recognise",
    "I was charged twice by {MERCHANT} {DATE}, {MONEY} each time",
    "{MERCHANT} charged me {MONEY} instead of {MONEY2}",
    "I tried to withdraw {MONEY} {DATE} but only got {MONEY2}",
    "the ATM gave me {MONEY2} when I asked for {MONEY}",
    "can I top up {MONEY} with my {CARD}?",
    "my {CARD} was declined at {MERCHANT}",
    "why doesn't my {CARD} work on {MERCHANT}?",
    "I want to exchange {MONEY} to {CUR}",
    "how much does it cost to change {CUR} into {CUR2}?",
    "can I hold {CUR} in my account?",
    "do you support {CUR}?",
    "I sent {MONEY} to my friend {DATE} and he still hasnt received it",
    "my transfer of {MONEY} {DATE} is still pending",
    "please cancel the {MONEY} transfer I made {DATE}",
    "I topped up {MONEY} {DATE} and it hasn't shown up",
    "my top up of {MONEY} was reverted",
    "is there a fee for topping up with a {CARD}?",
    "can I use my {CARD} to add money?",
    "I deposited a cheque for {MONEY} {DATE} and my balance hasn't changed",
    "I lost my {CARD} {DATE}",
    "my {CARD} was stolen {DATE} in {PLACE}",
    "I ordered a {CARD} {DATE} and it still hasn't arrived",
    "how do I get a {CARD}?",
    "is your card a {NET} or a {NET2}?",
    "I want a {NET} instead of a {NET2}",
    "{MERCHANT} says they refunded me {MONEY} {DATE} but I can't see it",
    "I returned an item to {MERCHANT} {DATE}, where is my refund?",
    "I got a refund from {MERCHANT} but it was only {MONEY}",
    "there's an extra {MONEY} charge on my statement",
    "why is there a {MONEY} fee on my {CUR} transfer?",
    "I was charged {MONEY} for taking out cash {DATE}",
    "I paid {MONEY} in {CUR} at {MERCHANT} and the rate was wrong",
    "the exchange rate on my {MERCHANT} payment {DATE} was terrible",
    "got {MONEY} out of an ATM in {PLACE} and the rate was awful",
    "can my salary be paid in {CUR}?",
    "I'm expecting {MONEY} from my employer {FDATE}",
    "someone withdrew {MONEY} from my account {DATE} and it wasn't me",
    "there is a direct debit for {MONEY} from {MERCHANT} I never set up",
    "{MERCHANT} took {MONEY} by direct debit {DATE}",
    "my {CARD} didn't work on {MERCHANT}",
    "how many times can I use a {CARD}?",
    "what is the limit on my {CARD}?",
    "can I pay {MERCHANT} with my {CARD}?",
    "Hi, I bought something from {MERCHANT} for {MONEY} and was charged in {CUR}",
    "{DATE} my {CARD} got swallowed by the ATM",
    "the machine kept my {CARD} {DATE}",
    "my {CARD} expires {FDATE}, what do I do?",
    "can I get {MONEY} cash back at {MERCHANT}?",
    "why did {MERCHANT} reserve {MONEY} on my card?",
    "{MERCHANT} put a hold of {MONEY} on my account",
    "the {MONEY} payment to {MERCHANT} was reverted",
    "I bought a train ticket from {MERCHANT} {DATE} for {MONEY} and it was declined",
    "top up of {MONEY} failed with my {CARD}",
    "can I set auto top up to add {MONEY} when my balance drops below {MONEY2}?",
    "what's the max I can top up with a {CARD}? is {MONEY} ok?",
    "is {MONEY} over the daily atm limit?",
    "I want to send {MONEY} to {PLACE}, how much is the fee?",
    "how long does it take to receive {CUR} from {PLACE}?",
    "my mum sent me {MONEY} from {PLACE} {DATE}, where is it?",
    "I transfered {MONEY} from my other bank {DATE} but it's not showing",
    "can I receive {CUR} into my account?",
    "I'd like to convert all my {CUR} back to {CUR2}",
    "{MERCHANT} won't accept my {CARD}",
    "paid {MERCHANT} with apple pay {DATE} and got charged {MONEY}",
    "why has my {CARD} payment at {MERCHANT} been pending since {DATEB}?",
    "refund from {MERCHANT} for {MONEY} missing since {DATEB}",
    "I need to dispute a {MONEY} charge from {MERCHANT}",
    "{MERCHANT} double charged me",
    "my {CARD} number was used at {MERCHANT} in {PLACE}, I've never been there",
    "someone used my {CARD} to spend {MONEY} at {MERCHANT}",
    "freeze my {CARD} please",
    "I need a new {CARD}, mine expired {DATE}",
    "how much for a {CARD}?",
    "does a {CARD} cost anything?",
    "can I have a {CARD} and a {CARD2}?",
    "What's the fee for sending {MONEY} in {CUR}?",
    "I got {MONEY} from the cash machine in {PLACE} {DATE} and the fee was huge",
    "I was charged {MONEY} more than the price at {MERCHANT}",
    "please explain the {MONEY} charge {DATE}",
    "why is my balance {MONEY} lower than it should be?",
    "I put {MONEY} cash in at the post office {DATE}",
    "{DATE} I made a payment of {MONEY} and it disappeared",
    "my {CARD} stopped working {DATE}",
    "contactless on my {CARD} isn't working at {MERCHANT}",
    "can I add my {CARD} to google pay?",
    "I topped up via apple pay with my {CARD} and it failed",
    "how much is {MONEY} in {CUR}?",
    "transfer {MONEY} to my {CUR} account",
    "do I pay a fee if I withdraw more than {MONEY} a month?",
    "{MERCHANT} refunded {MONEY} to my old {CARD}, will I get it?",
    "what happens to the {MONEY} {MERCHANT} owes me if I close my account?",
    "will my transfer arrive by {FDATEB}?",
    "I'm travelling to {PLACE} {FDATE}, can I use my {CARD} there?",
    "I want to schedule a transfer of {MONEY} for {FDATEB}",
    "my salary of {MONEY} should have come in {DATE}",
    "i bought groceries at {MERCHANT} and {MERCHANT2} {DATE}, both show twice",
    "is it cheaper to pay {MERCHANT} in {CUR} or {CUR2}?",
    "the {MERCHANT} charge of {MONEY} is wrong, I only spent {MONEY2}",
    "I'm sure I didn't spend {MONEY} at {MERCHANT} {DATE}",
    "my card payment of {MONEY} at {GPLACE} {DATE} is still pending",
    "why cant i use my {CARD} at {GPLACE}?",
    "I exchanged {MONEY} {DATE} and the rate was different to what the app showed",
]

DEV_TEMPLATES = [
    "Just noticed {MERCHANT} took {MONEY} off me {DATE}, no idea what for",
    "the cashpoint only dispensed {MONEY2} out of {MONEY}",
    "Could you tell me why {MERCHANT} billed my {CARD} twice?",
    "hey, I need to swap {MONEY} into {CUR} before my trip",
    "im owed {MONEY} by {MERCHANT} since {DATEB}",
    "got declined at {MERCHANT} with my {CARD} {DATE} even though I had {MONEY} in there",
    "Is it possible to keep a {CUR} balance and a {CUR2} balance?",
    "sent {MONEY} by mistake {DATE}, can i get it back",
    "My {CARD} still isn't here and I ordered it {DATE}",
    "how come my {MONEY} top up got cancelled?",
    "{MERCHANT} says the payment of {MONEY} never reached them",
    "Why does {MERCHANT} show {MONEY} pending when I paid {MONEY2}?",
    "Will a {CARD} from another bank work for topping up {MONEY}?",
    "Any charges for withdrawing {MONEY} abroad in {CUR}?",
    "The ATM in {PLACE} ate my {CARD} {DATE}",
    "Received {MONEY} from my landlord {DATE} but balance is the same",
    "what's the cheapest way to move {MONEY} from {CUR} to {CUR2}?",
    "no clue what this {MONEY} {MERCHANT} charge is",
    "can u replace my {CARD}? it snapped {DATE}",
    "my {CARD} expires {FDATE}, will you send a new one?",
    "paid {MERCHANT} {MONEY} for a subscription I cancelled {DATE}",
    "Is {CUR} supported for salary payments?",
    "do you issue {NET} or {NET2}?",
]

NO_ENTITY_TRAIN = [
    "How do I reset my passcode?",
    "my card hasn't arrived yet",
    "I can't verify my identity, the app keeps failing",
    "why is my top up still pending?",
    "how do I activate my new card",
    "what are your exchange rates like",
    "i forgot my PIN",
    "I entered the wrong PIN {TIMES} times and now it's blocked",
    "the atm in {PLACE} wouldn't give me any money",
    "i paid at {GPLACE} and it was declined",
    "How old do I have to be to open an account?",
    "Which countries do you operate in?",
    "can I change my address in the app",
    "I want to close my account",
    "my phone was stolen, what do I do",
    "is there a fee for transfers?",
    "how do i get a refund?",
    "there's a payment I don't recognise",
    "my contactless stopped working",
    "How long do transfers usually take?",
    "why do you need my ID?",
    "the app won't let me log in",
    "I need to cancel a transfer I just made",
    "my friend says he never got the money",
    "Do you charge for cash withdrawals?",
    "I think my card has been compromised",
    "someone has been using my card",
    "why was my transfer declined",
    "can I get a second card for my partner",
    "i still havent recieved my pin",
    "how do i link my card to the app",
    "where can I find my account details",
    "Please help, the machine kept my card",
    "why is there a hold on my account",
    "how do I verify my source of funds",
    "can I top up with cash",
    "my balance didn't update after the transfer",
    "the exchange rate I got was wrong",
    "why did my payment get reverted",
    "thanks for your help!",
    "I'm waiting for my refund",
    "what's the daily limit for withdrawals?",
    "i tried {TIMES} times and it keeps failing",
    "the app crashed while I was sending money",
    "why was I charged a fee",
    "can I pay with my phone",
    "my PIN has 4 digits right?",
    "it has been pending for 2 hours now",
    "I have 2 cards, which one should I use?",
    "how do I change my PIN",
    "is my money safe with you?",
    "my card is bent and doesn't work in the machine",
    "I got married and need to update my surname",
    "how do i turn on auto top up",
    "what are the last 4 digits for?",
    "Where is the nearest cash machine?",
    "the payment at {GPLACE} went through twice",
]

NO_ENTITY_DEV = [
    "could you explain the charges on my statement?",
    "does the top-up verification code come by text?",
    "the app keeps asking for a selfie",
    "I called {TIMES} times and nobody helped",
    "how do i unfreeze my card",
    "my money never arrived at {GPLACE}",
    "what happens if my card expires while I'm abroad?",
    "can my kids get an account?",
    "the recipient's bank rejected my payment",
    "I typed the wrong account number",
]

GREETINGS = ["Hi, ", "hello ", "Hey, ", "hi there, ", "Good morning, ", "Help! "]
SUFFIXES = [" please", " thanks", " asap", "!", " ??", " thank you"]


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------

def fmt_number(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.35:
        return str(rng.choice([5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 80, 100, 150, 200, 250,
                               300, 400, 500, 1000]))
    if kind < 0.65:
        return str(rng.randint(2, 480))
    if kind < 0.9:
        return f"{rng.randint(1, 250)}.{rng.randint(0, 99):02d}"
    return f"{rng.randint(1, 12)},{rng.choice(['000', '200', '500', '750', '050'])}"


def money(rng: random.Random, values: dict) -> tuple[str, list[tuple[int, int, str]]]:
    """An amount phrase and its entity spans (relative offsets)."""
    num = fmt_number(rng)
    r = rng.random()
    if r < 0.40:                                      # £20.50 / $100 / €45
        s = rng.choice("£££$€") + num
        return s, [(0, len(s), "AMOUNT")]
    if r < 0.62:                                      # 100 euros / 50 GBP
        cur = rng.choice(values["CUR"])
        s = f"{num} {cur}"
        return s, [(0, len(num), "AMOUNT"), (len(num) + 1, len(s), "CURRENCY")]
    if r < 0.70:                                      # EUR 30
        code = rng.choice(values["CODE"])
        s = f"{code} {num}"
        return s, [(0, len(code), "CURRENCY"), (len(code) + 1, len(s), "AMOUNT")]
    if r < 0.80:                                      # bare number
        return num, [(0, len(num), "AMOUNT")]
    if r < 0.88:                                      # twenty pounds
        w = rng.choice(values["NUMWORD"])
        cur = rng.choice(["pounds", "euros", "dollars", "quid", "francs"])
        s = f"{w} {cur}"
        return s, [(0, len(w), "AMOUNT"), (len(w) + 1, len(s), "CURRENCY")]
    if r < 0.95:                                      # 20€
        s = num + rng.choice("€$")
        return s, [(0, len(s), "AMOUNT")]
    s = rng.choice("£$€") + " " + num                 # £ 20 (symbol written apart)
    return s, [(0, len(s), "AMOUNT")]


def typo(word: str, rng: random.Random) -> str:
    """Swap two inner letters or drop one."""
    if len(word) < 5 or not word.isalpha():
        return word
    i = rng.randint(1, len(word) - 3)
    if rng.random() < 0.5:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + word[i + 1:]


def render(template: str, rng: random.Random, values: dict) -> tuple[str, list]:
    """Fill a template; return (text, spans) where spans are (start, end, type)."""
    text, spans = "", []
    used: dict[str, str] = {}
    for piece in re.split(r"(\{[A-Z0-9]+\})", template):
        if not piece:
            continue
        m = re.fullmatch(r"\{([A-Z0-9]+)\}", piece)
        if not m:
            words = piece.split(" ")
            words = [typo(w, rng) if rng.random() < 0.03 else w for w in words]
            text += " ".join(words)
            continue
        name = m.group(1)
        base = name.rstrip("2")
        if base == "MONEY":
            s, sub = money(rng, values)
            spans += [(len(text) + a, len(text) + b, t) for a, b, t in sub]
            text += s
            continue
        if base in ("DATE", "DATEB", "FDATE", "FDATEB"):
            pool = values["FDATE"] if base.startswith("F") else values["DATE"]
            prefix, ent = rng.choice(pool)
            if base.endswith("B"):
                prefix = ""
            text += prefix
            spans.append((len(text), len(text) + len(ent), "DATE"))
            text += ent
            continue
        if base in ("PLACE", "GPLACE", "TIMES"):
            text += rng.choice(values[base])
            continue
        etype, pool = {"CUR": ("CURRENCY", values["CUR"]),
                       "CARD": ("CARD_TYPE", values["CARD"]),
                       "NET": ("CARD_TYPE", values["NET"]),
                       "MERCHANT": ("MERCHANT", values["MERCHANT"])}[base]
        choices = [v for v in pool if v != used.get(base)] or pool
        val = rng.choice(choices)
        used[base] = val
        spans.append((len(text), len(text) + len(val), etype))
        text += val
    return text, spans


def to_example(text: str, spans: list) -> dict:
    toks = tokenize_with_offsets(text)
    tags = []
    prev = None  # span index of previous token
    for tok, s, e in toks:
        tag, cur = "O", None
        for k, (a, b, t) in enumerate(spans):
            if s >= a and e <= b:
                tag, cur = ("I-" if prev == k else "B-") + t, k
                break
            if s < b and e > a:
                raise ValueError(f"entity boundary inside token {tok!r} in {text!r}")
        tags.append(tag)
        prev = cur
    return {"tokens": [t for t, _, _ in toks], "tags": tags}


def sentence(rng: random.Random, templates: list, no_entity: list, values: dict) -> dict:
    if rng.random() < 0.30:
        tpl = rng.choice(no_entity)
    else:
        tpl = rng.choice(templates)
    text, spans = render(tpl, rng, values)
    if rng.random() < 0.2:
        g = rng.choice(GREETINGS)
        text = g + (text[0].lower() + text[1:] if not text[:2].isupper() else text)
        spans = [(a + len(g), b + len(g), t) for a, b, t in spans]
    if rng.random() < 0.15 and text[-1] not in "?!.":
        text += rng.choice(SUFFIXES)
    r = rng.random()
    if r < 0.25:
        text = text.lower()
    elif text[0].islower() and r < 0.7:
        text = text[0].upper() + text[1:]
    return to_example(text, spans)


def build(seed: int, n_train: int, n_dev: int) -> tuple[list, list]:
    rng = random.Random(seed)
    train_vals, dev_vals = {}, {}
    for key, lst in (("MERCHANT", MERCHANTS), ("CARD", CARDS), ("NET", NETWORKS),
                     ("CODE", CURRENCY_CODES), ("NUMWORD", NUMBER_WORDS),
                     ("DATE", DATES), ("FDATE", FUTURE_DATES)):
        train_vals[key], dev_vals[key] = split_values(lst)
    # {CUR} draws from currency words and codes together.
    w_tr, w_all = split_values(CURRENCY_WORDS)
    train_vals["CUR"], dev_vals["CUR"] = w_tr + train_vals["CODE"], w_all + dev_vals["CODE"]
    for key, lst in (("PLACE", PLACES), ("GPLACE", GENERIC_PLACES), ("TIMES", TIMES)):
        train_vals[key] = dev_vals[key] = lst

    seen: set = set()

    def fill(n, make):
        out = []
        while len(out) < n:
            ex = make()
            key = tuple(ex["tokens"])
            if key in seen:
                continue
            seen.add(key)
            out.append(ex)
        return out

    train = fill(n_train, lambda: sentence(rng, TRAIN_TEMPLATES, NO_ENTITY_TRAIN, train_vals))

    def dev_one():
        if rng.random() < 0.5:
            return sentence(rng, DEV_TEMPLATES, NO_ENTITY_DEV, dev_vals)
        return sentence(rng, TRAIN_TEMPLATES, NO_ENTITY_TRAIN, dev_vals)

    dev = fill(n_dev, dev_one)
    return train, dev


def check(examples: list) -> None:
    """Raise if any example has mismatched lengths or invalid BIO."""
    valid = {"O"} | {f"{p}-{t}" for p in "BI" for t in TYPES}
    for ex in examples:
        assert len(ex["tokens"]) == len(ex["tags"]), ex
        prev = "O"
        for tag in ex["tags"]:
            assert tag in valid, ex
            if tag.startswith("I-"):
                assert prev != "O" and prev[2:] == tag[2:], ex
            prev = tag


def main() -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=20240577)
    ap.add_argument("--n-train", type=int, default=400)
    ap.add_argument("--n-dev", type=int, default=100)
    ap.add_argument("--out-dir", type=Path, default=here)
    args = ap.parse_args()

    train, dev = build(args.seed, args.n_train, args.n_dev)
    check(train)
    check(dev)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, data in (("train.jsonl", train), ("dev.jsonl", dev)):
        with open(args.out_dir / name, "w", encoding="utf-8", newline="\n") as f:
            for ex in data:
                f.write(json.dumps(ex, ensure_ascii=False) + "\n")
    for name, data in (("train", train), ("dev", dev)):
        counts = {t: sum(tag == f"B-{t}" for ex in data for tag in ex["tags"]) for t in TYPES}
        empty = sum(all(t == "O" for t in ex["tags"]) for ex in data)
        print(f"{name}: {len(data)} sentences, {empty} without entities, entities {counts}")
    print(f"templates: {len(TRAIN_TEMPLATES)} train + {len(DEV_TEMPLATES)} dev-only with slots, "
          f"{len(NO_ENTITY_TRAIN)} + {len(NO_ENTITY_DEV)} without")


if __name__ == "__main__":
    main()
