"""Task 2: a bi-encoder tuned with LoRA, contrastive with in-batch negatives (sentence-transformers).

Each example is (query text, positive text): for retrieval a question and its passage, for
recommendation a user's recent items and the item they took next. The base model is loaded as a
``SentenceTransformer`` (its own modules, or Transformer + mean pooling for a plain encoder), its
transformer is wrapped with a peft LoRA adapter (``shared.lora.wrap``: the same ``get_peft_model``
as every other task; ``SentenceTransformer.add_adapter`` goes through transformers' integration,
which needs peft >= 0.22), and ``SentenceTransformerTrainer`` trains it with
``MultipleNegativesRankingLoss`` (scale = 1 / temperature) on batches without duplicate texts
(``BatchSamplers.NO_DUPLICATES``), so a repeated positive is never a negative of itself.
With dev pairs, an ``InformationRetrievalEvaluator`` scores Recall@10 ``evals_per_epoch`` times
an epoch; training stops early and the best weights are kept in memory (``_keep_best``).

The adapter is saved by the registry exactly as before (PEFT ``adapter_config.json`` +
``adapter_model.safetensors`` + ``meta.json``), so the backbone serves it unchanged.

    trained = train_biencoder(pairs, LoraSettings(lr=5e-4), dev=dev_pairs)
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from typing import Any

from shared.adapters import TrainedAdapter
from shared.settings import LoraSettings

log = logging.getLogger(__name__)
METRIC = "recall@10"


def sentence_model(model: str, settings: LoraSettings):
    """(SentenceTransformer with a fresh LoRA adapter on its transformer, ModelRef), offline first."""
    from sentence_transformers import SentenceTransformer

    from shared.lora import wrap
    from shared.models import resolve, set_offline_default

    set_offline_default()
    ref = resolve(model)
    st = SentenceTransformer(ref.location, device="cuda" if _cuda() else "cpu")
    st.max_seq_length = settings.max_length
    st[0].model = wrap(st[0].model, settings)
    return st, ref


def ir_evaluator(pairs: list[tuple[str, str]], k: int = 10):
    """Recall@k of each dev query's own positive among all distinct dev positives."""
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    corpus = {f"d{i}": text for i, text in enumerate(sorted({p for _, p in pairs}))}
    ids = {text: cid for cid, text in corpus.items()}
    queries = {f"q{i}": q for i, (q, _) in enumerate(pairs)}
    relevant = {f"q{i}": {ids[p]} for i, (_, p) in enumerate(pairs)}
    return InformationRetrievalEvaluator(queries, corpus, relevant, name="dev", accuracy_at_k=[k],
                                         precision_recall_at_k=[k], mrr_at_k=[k], ndcg_at_k=[k], map_at_k=[k],
                                         batch_size=128, write_csv=False)


def _keep_best(model, metric: str, patience: int, history: list[dict[str, Any]]):
    """A TrainerCallback: log losses into ``history``, keep the best dev weights, stop when stale."""
    from transformers import TrainerCallback

    class KeepBest(TrainerCallback):
        best: float | None = None
        state: dict | None = None
        stale = 0

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                history.append({"step": state.global_step, "epoch": max(1, math.ceil(logs.get("epoch", 1))),
                                "loss": float(logs["loss"])})

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            score = float((metrics or {})[metric])
            if history and history[-1]["step"] == state.global_step:
                history[-1]["dev"] = score
            else:
                history.append({"step": state.global_step, "dev": score})
            log.info("bi-encoder step %d dev %s %.4f", state.global_step, METRIC, score)
            if self.best is None or score > self.best + 1e-6:
                self.best, self.stale = score, 0
                self.state = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
            else:
                self.stale += 1
                control.should_training_stop = bool(patience and self.stale >= patience)

    return KeepBest()


def _budget(settings: LoraSettings, examples: int):
    """A TrainerCallback: the plan before training, an estimate after 10 steps, ``max_minutes``."""
    from transformers import TrainerCallback

    class Budget(TrainerCallback):
        start = 0.0

        def on_train_begin(self, args, state, control, **kwargs):
            self.start = time.perf_counter()
            log.info("bi-encoder plan: %d pairs, %d epoch(s), %d steps of %d", examples, settings.epochs,
                     state.max_steps, settings.batch_size)

        def on_step_end(self, args, state, control, **kwargs):
            elapsed = time.perf_counter() - self.start
            if state.global_step == min(10, state.max_steps):
                log.info("bi-encoder estimate: about %.1f min for %d steps", elapsed / state.global_step
                         * state.max_steps / 60, state.max_steps)
            if settings.max_minutes and elapsed > 60 * settings.max_minutes:
                log.info("bi-encoder: time budget of %s min reached at step %d", settings.max_minutes,
                         state.global_step)
                control.should_training_stop = True

    return Budget()


def _arguments(settings: LoraSettings, steps_per_epoch: int, has_dev: bool, output_dir: str):
    from sentence_transformers import SentenceTransformerTrainingArguments
    from sentence_transformers.base.sampler import BatchSamplers

    from shared.progress import off

    every = max(1, math.ceil(steps_per_epoch / settings.evals_per_epoch))
    return SentenceTransformerTrainingArguments(
        output_dir=output_dir, num_train_epochs=settings.epochs, per_device_train_batch_size=settings.batch_size,
        learning_rate=settings.lr, weight_decay=settings.weight_decay, warmup_steps=settings.warmup_ratio,
        lr_scheduler_type="linear", seed=settings.seed, data_seed=settings.seed,
        batch_sampler=BatchSamplers.NO_DUPLICATES, eval_strategy="steps" if has_dev else "no", eval_steps=every,
        save_strategy="no", logging_steps=1, report_to="none", disable_tqdm=off(), use_cpu=not _cuda())


def _restore(model, state: dict | None) -> None:
    """Put the best dev weights back (if there was a dev set) and switch to eval mode."""
    import torch

    if state is not None:
        with torch.no_grad():
            for name, param in model.named_parameters():
                if name in state:
                    param.copy_(state[name])
    model.eval()


def _trainer(**kwargs):
    """SentenceTransformerTrainer without model-card tracking (the registry writes meta.json and
    shared.export the card: its documented override) and without printed log dicts."""
    from sentence_transformers import SentenceTransformerTrainer
    from transformers.trainer_callback import PrinterCallback

    class Trainer(SentenceTransformerTrainer):
        def add_model_card_callback(self, default_args_dict: dict[str, Any]) -> None:
            return None

    trainer = Trainer(**kwargs)
    trainer.remove_callback(PrinterCallback)
    return trainer


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def train_biencoder(pairs: list[tuple[str, str]], settings: LoraSettings | None = None, model: str = "minilm",
                    dev: list[tuple[str, str]] | None = None, data_hash: str = "") -> TrainedAdapter:
    """Train a LoRA bi-encoder on (query, positive) pairs; early-stops on dev Recall@10."""
    from datasets import Dataset
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from shared.models import pooling_mode
    from shared.training import set_seed, trainable_parameters

    settings = settings or LoraSettings(lr=5e-4)
    set_seed(settings.seed)
    st, ref = sentence_model(model, settings)
    evaluator = ir_evaluator(dev) if dev else None
    metric = f"eval_dev_cosine_{METRIC}"
    baseline = float(evaluator(st)[metric[5:]]) if evaluator else None  # LoRA B starts at 0: the base model
    history: list[dict[str, Any]] = []
    keep = _keep_best(st, metric, settings.early_stopping_patience, history)
    data = Dataset.from_dict({"anchor": [q for q, _ in pairs], "positive": [p for _, p in pairs]})
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lorasuite-st-") as out:
        args = _arguments(settings, math.ceil(len(pairs) / settings.batch_size), evaluator is not None, out)
        trainer = _trainer(model=st, args=args, train_dataset=data, evaluator=evaluator,
                           callbacks=[keep, _budget(settings, len(pairs))],
                           loss=MultipleNegativesRankingLoss(st, scale=1.0 / settings.temperature))
        trainer.train()
    _restore(st, keep.state)
    trainable, total = trainable_parameters(st)
    metrics = {"dev_recall_at_10": keep.best, "dev_recall_at_10_base": baseline} if dev else {}
    meta = {"task": "biencoder", "base_model": ref.name, "pooling": pooling_mode(ref), "max_length": settings.max_length,
            "data_hash": data_hash, "settings": settings.to_dict(), "metrics": metrics, "trainable_params": trainable,
            "total_params": total, "train_seconds": round(time.perf_counter() - started, 1),
            "steps": trainer.state.global_step, "trainer": "sentence-transformers"}
    log.info("trained bi-encoder: %s", metrics)
    return TrainedAdapter(st[0].model, None, meta, history, task=st, tokenizer=st.tokenizer)
