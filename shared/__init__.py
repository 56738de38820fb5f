"""lorasuite core: one base encoder, LoRA adapters per job, and the pieces every app shares.

Modules are named for what they own:
  home        where state lives ($LORASUITE_HOME) and where shipped data lives
  errors      the error type a user can cause (the CLI and UIs show its message, no traceback)
  models      resolve a model name (``minilm``, a path, a Hugging Face id) and load it offline-first
  settings    LoraSettings: the validated training settings dataclass
  datasets    read and validate training files (CSV/JSONL), content hashes
  training    the one training loop (accelerate + tqdm, warmup, early stopping, seed)
  classifier  task 1: single-label text classification (encoder + LoRA + head)
  biencoder   task 2: contrastive bi-encoder (sentence-transformers trainer, MNRL, LoRA)
  causal      task 3: causal-LM supervised fine-tuning (SmolLM2 via GGUF works)
  adapters    the adapter registry on disk (PEFT files + head + meta.json, atomic)
  export      adapters as standard artefacts: public base id, head files, model card; Hub push
  modelcard   the README.md model card of an adapter (huggingface_hub ModelCard), usage: its snippets
  progress    tqdm progress bars tied to the log level
  backbone    ONE base model in memory serving many named adapters, thread-safe
  index       faiss embedding index with stable ids (flat / HNSW / IVF)
  passages    Passage / Document records and cutting text into passages
  lexical     text -> BM25 terms (stop words, Snowball stems) and BM25 on bm25s
  retrieval   HybridIndex: passages + dense + BM25, reciprocal-rank fusion, atomic save/load
  storage     SQLite (WAL) or PostgreSQL through SQLAlchemy, per-app migrations
  evaluation  accuracy, macro-F1, per-class report, confusion-matrix PNG
  distill     knowledge distillation: teacher resolution and caching, soft targets, the KD loss
  modelstore  models installed on demand (``lorasuite models install mpnet``), verified by SHA-256
  wordshape   word-shape classes from the original text, for tagging on an uncased base

``import shared`` never imports torch; heavy imports live inside the modules that need them.
"""

__version__ = "0.1.0"
