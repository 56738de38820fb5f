"""Distillation (shared.distill): the KD loss, teachers (base trained + cached, or an adapter), meta, --unlabeled."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from apps.cli import main
from shared import adapters
from shared.conll import Sentence
from shared.distill import kd_loss
from shared.home import state_dir

ROWS = [("shares soar", "pos"), ("profits jump", "pos"), ("stock rallies", "pos"),
        ("shares sink", "neg"), ("losses widen", "neg"), ("stock tumbles", "neg")] * 3
FAST = ["--epochs", "3", "--batch-size", "6", "--max-length", "16", "--lr", "0.01"]


def _csv(path, rows, header="text,label"):
    path.write_text(header + "\n" + "".join(f"{t},{label}\n" for t, label in rows), encoding="utf-8")
    return path


def test_kd_loss_is_the_hinton_mix_of_kl_at_t_and_cross_entropy():
    torch.manual_seed(0)
    logits, teacher = torch.randn(4, 3), torch.softmax(torch.randn(4, 3) / 2.0, dim=-1)
    labels = torch.tensor([0, 2, 1, 1])
    kl = F.kl_div(F.log_softmax(logits / 2.0, dim=-1), teacher, reduction="batchmean") * 4.0
    ce = F.cross_entropy(logits, labels)
    assert kd_loss(logits, teacher, labels, 2.0, 0.3).item() == pytest.approx((0.3 * kl + 0.7 * ce).item(), rel=1e-5)
    assert kd_loss(logits, teacher, labels, 2.0, 0.0).item() == pytest.approx(ce.item(), rel=1e-5)
    assert kd_loss(logits, teacher, labels, 2.0, 1.0).item() == pytest.approx(kl.item(), rel=1e-5)


def test_kd_loss_skips_rows_without_teacher_or_label():
    logits, teacher = torch.randn(3, 2), torch.tensor([[0.9, 0.1], [0.0, 0.0], [0.2, 0.8]])
    labels = torch.tensor([0, 1, -100])  # row 2 unlabeled, row 1 has no teacher target
    kl = F.kl_div(F.log_softmax(logits[[0, 2]], dim=-1), teacher[[0, 2]], reduction="batchmean")
    ce = F.cross_entropy(logits[:2], labels[:2])
    assert kd_loss(logits, teacher, labels, 1.0, 0.5).item() == pytest.approx((0.5 * kl + 0.5 * ce).item(), rel=1e-5)
    all_unlabeled = kd_loss(logits, teacher, torch.full((3,), -100), 1.0, 0.5)
    assert torch.isfinite(all_unlabeled) and all_unlabeled.item() == pytest.approx(0.5 * kl.item(), rel=1e-5)
    per_token = kd_loss(logits[None], teacher[None], labels[None], 1.0, 0.5)  # [B, L, C] works the same
    assert per_token.item() == pytest.approx((0.5 * kl + 0.5 * ce).item(), rel=1e-5)


def test_student_meta_records_the_teacher_and_the_teacher_is_cached(tmp_path, tiny_bert, capsys):
    data, dev = _csv(tmp_path / "train.csv", ROWS), _csv(tmp_path / "dev.csv", ROWS[:6])
    args = ["train", "classify", "--data", str(data), "--dev", str(dev), "--model", tiny_bert, "--teacher", tiny_bert,
            "--distill-temperature", "3", "--distill-alpha", "0.7", *FAST]
    assert main([*args, "--name", "s1"]) == 0
    capsys.readouterr()
    assert main(["adapters", "show", "core", "s1"]) == 0
    meta = json.loads(capsys.readouterr().out)
    teacher = meta["distillation"]["teacher"]
    assert teacher["ref"] == tiny_bert and teacher["base_model"] == tiny_bert and teacher["trained_now"] is True
    assert 0.0 <= teacher["dev_accuracy"] <= 1.0 and "dev_macro_f1" in teacher
    assert meta["distillation"]["temperature"] == 3.0 and meta["distillation"]["alpha"] == 0.7
    assert meta["settings"]["distill_temperature"] == 3.0 and meta["base_model"] == tiny_bert
    assert len(list(state_dir("teachers").glob("*/classify/teacher/meta.json"))) == 1
    assert main([*args, "--name", "s2"]) == 0  # same data and settings: the cached teacher is reused
    meta2 = adapters.read_meta(adapters.find("core", "s2"))
    assert meta2["distillation"]["teacher"]["trained_now"] is False
    assert meta2["distillation"]["teacher"]["path"] == teacher["path"]


def test_unlabeled_texts_are_labelled_by_an_adapter_teacher(tmp_path, tiny_bert, capsys):
    data, dev = _csv(tmp_path / "train.csv", ROWS), _csv(tmp_path / "dev.csv", ROWS[:6])
    extra = tmp_path / "more.jsonl"
    extra.write_text("".join(json.dumps({"text": t}) + "\n" for t in ["earnings surge", "shares slump", " "] * 4))
    base = ["train", "classify", "--data", str(data), "--dev", str(dev), "--model", tiny_bert, *FAST]
    assert main([*base, "--name", "teach"]) == 0
    assert main([*base, "--name", "plain"]) == 0
    assert main([*base, "--name", "student", "--teacher", "core/teach", "--unlabeled", str(extra)]) == 0
    metas = {n: adapters.read_meta(adapters.find("core", n)) for n in ("plain", "student")}
    info = metas["student"]["distillation"]
    assert info["unlabeled_rows"] == 8 and info["teacher"]["ref"] == "core/teach"
    assert info["teacher"]["base_model"] == tiny_bert and info["teacher"]["trained_now"] is False
    assert metas["student"]["steps"] > metas["plain"]["steps"]  # 18 labelled + 8 teacher-labelled rows


def test_missing_mpnet_is_a_clear_error_and_nothing_is_trained(tmp_path, tiny_bert, capsys, monkeypatch):
    monkeypatch.setenv("LORASUITE_MODELS_DIR", str(tmp_path / "models"))
    data = _csv(tmp_path / "train.csv", [(t, {"pos": "positive", "neg": "negative"}[y]) for t, y in ROWS])
    assert main(["sentiment", "train", "--data", str(data), "--name", "fpbd", "--teacher", "mpnet",
                 "--model", tiny_bert, *FAST]) == 2
    err = capsys.readouterr().err
    assert "lorasuite models install mpnet" in err and "Traceback" not in err
    assert not any(state_dir("adapters").rglob("meta.json")) and not any(state_dir("teachers").iterdir())


def test_unlabeled_without_teacher_and_unknown_adapter_teacher_are_refused(tmp_path, tiny_bert, capsys):
    data = _csv(tmp_path / "train.csv", ROWS)
    base = ["train", "classify", "--data", str(data), "--name", "x", "--model", tiny_bert, *FAST]
    assert main([*base, "--unlabeled", str(data)]) == 2
    assert "need a teacher" in capsys.readouterr().err
    assert main([*base, "--name", "y"]) == 0
    assert main([*base, "--teacher", "core/nope"]) == 2
    assert "no adapter core/nope" in capsys.readouterr().err


def test_tagger_distils_per_word_and_uses_unlabeled_sentences(tiny_bert):
    from shared.settings import LoraSettings
    from shared.tagging import train_tagger

    train = [Sentence("Acme hired Bob Stone today".split(), ["B-ORG", "O", "B-PER", "I-PER", "O"], 1),
             Sentence("Bob Stone left Acme Corp".split(), ["B-PER", "I-PER", "O", "B-ORG", "I-ORG"], 2)] * 6
    settings = LoraSettings(epochs=3, lr=2e-2, batch_size=6, max_length=16, distill_alpha=0.6)
    student = train_tagger(train, settings, model=tiny_bert, dev=train[:2], data_hash="h", teacher=tiny_bert,
                           unlabeled=["Acme and Bob met.", "  "])
    info = student.meta["distillation"]
    assert info["unlabeled_rows"] == 1 and info["alpha"] == 0.6 and "dev_f1" in info["teacher"]
    assert student.meta["base_model"] == tiny_bert and student.meta["word_shape"] is True
