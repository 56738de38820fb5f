"""Usage snippets for exported adapters: plain transformers + peft + safetensors, no lorasuite.

Each snippet loads the base with ``AutoModel`` (or ``AutoModelForCausalLM``), the adapter with
``PeftModel.from_pretrained(base, ADAPTER)``, pools the way lorasuite does (mean over the
attention mask) and applies the head from ``head.safetensors`` / ``head_config.json``. The
snippet runs from inside the exported folder (``ADAPTER = "."``) or after ``snapshot_download``.
"""

from __future__ import annotations

from typing import Any

_LOAD = '''import json

import torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import AutoModel, AutoTokenizer

ADAPTER = "."  # this folder{hub}
BASE = "{base}"
tokenizer = AutoTokenizer.from_pretrained(BASE)
model = PeftModel.from_pretrained(AutoModel.from_pretrained(BASE), ADAPTER).eval()
'''
_HEAD = '''head = load_file(f"{ADAPTER}/head.safetensors")  # linear.weight [labels, hidden], linear.bias [labels]
config = json.load(open(f"{ADAPTER}/head_config.json"))
'''
_POOL = '''

def mean_pool(hidden, mask):
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


'''
_CLASSIFY = '''texts = [{example!r}]
batch = tokenizer(texts, padding=True, truncation=True, max_length=config["max_length"], return_tensors="pt")
with torch.no_grad():
    pooled = mean_pool(model(**batch).last_hidden_state, batch["attention_mask"])
    logits = pooled @ head["linear.weight"].T + head["linear.bias"]
    probs = torch.softmax(logits / config["temperature"], dim=-1)  # calibrated probabilities
for text, row in zip(texts, probs):
    print(text, "->", config["id2label"][str(int(row.argmax()))], round(float(row.max()), 3))
'''
_TAG = '''words = {example!r}.split()
batch = tokenizer([words], is_split_into_words=True, truncation=True, max_length=config["max_length"],
                  return_tensors="pt")
with torch.no_grad():
    logits = model(**batch).last_hidden_state @ head["linear.weight"].T + head["linear.bias"]
tags, seen = [], set()
for position, word in enumerate(batch.word_ids(0)):  # each word's first sub-token carries its tag
    if word is not None and word not in seen:
        seen.add(word)
        tag = config["id2label"][str(int(logits[0, position].argmax()))]
        previous = tags[-1][1] if tags else "O"
        if tag.startswith("I-") and previous[2:] != tag[2:]:  # I-X must follow B-X or I-X
            tag = "O"  # (lorasuite decodes the best valid sequence with Viterbi instead)
        tags.append((words[word], tag))
print(tags)
'''
_EMBED = '''texts = [{example!r}, "a related item description", "something else entirely"]
batch = tokenizer(texts, padding=True, truncation=True, max_length={max_length}, return_tensors="pt")
with torch.no_grad():
    vectors = torch.nn.functional.normalize(mean_pool(model(**batch).last_hidden_state, batch["attention_mask"]), dim=-1)
print(vectors[0] @ vectors[1:].T)  # cosine similarity of the first text to the others
'''
_CAUSAL = '''from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

ADAPTER = "."  # this folder{hub}
BASE = "{base}"
tokenizer = AutoTokenizer.from_pretrained(BASE)
model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(BASE), ADAPTER).eval()
prompt = tokenizer.apply_chat_template([{{"role": "user", "content": "How do I freeze my card?"}}],
                                       tokenize=False, add_generation_prompt=True)
ids = tokenizer(prompt, return_tensors="pt")
print(tokenizer.decode(model.generate(**ids, max_new_tokens=64)[0][ids["input_ids"].shape[1]:]))
'''
EXAMPLES = {"support": "I still have not received my new card, what should I do?",
            "sentiment": "Shares of Acme Corp jump 12% after record quarterly profit",
            "ner": "Goldman Sachs ends its credit card partnership with Apple",
            "recommender": "Dune; The Left Hand of Darkness"}


def snippet(meta: dict[str, Any], base_id: str, repo_id: str | None = None) -> str:
    """Python that loads this adapter with plain transformers + peft and runs it on an example."""
    task, app = meta.get("task"), meta.get("app", "")
    hub = f'; from the Hub: huggingface_hub.snapshot_download("{repo_id}")' if repo_id else ""
    if task == "causal":
        return _CAUSAL.format(base=base_id, hub=hub).rstrip()
    example = EXAMPLES.get(app, "I lost my card yesterday in London")
    if task == "tag" and app == "support":
        example = "I paid £20.50 at Tesco on Monday with my Visa"
    load = _LOAD.format(base=base_id, hub=hub)
    if task == "classify":
        return (load + _HEAD + _POOL + _CLASSIFY.format(example=example)).rstrip()
    if task == "tag":
        return (load + _HEAD + "\n" + _TAG.format(example=example)).rstrip()
    load = load.replace("import json\n\n", "").replace("from safetensors.torch import load_file\n", "")
    return (load + _POOL + _EMBED.format(example=example, max_length=meta.get("max_length", 128))).rstrip()
