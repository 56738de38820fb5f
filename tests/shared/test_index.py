import numpy as np
import pytest

from shared.errors import LorasuiteError
from shared.index import EmbeddingIndex


def _vectors(n, dim=16, seed=0):
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf", "auto"])
def test_search_finds_each_vector_itself(kind):
    vectors = _vectors(200)
    index = EmbeddingIndex(16, kind=kind)
    index.add(np.arange(1000, 1200), vectors)
    scores, ids = index.search(vectors[:20], k=3)
    assert (ids[:, 0] == np.arange(1000, 1020)).mean() >= 0.95  # HNSW/IVF are approximate
    assert np.allclose(scores[ids[:, 0] == np.arange(1000, 1020), 0], 1.0, atol=1e-5)


def test_remove_and_replace_keep_ids_stable():
    vectors = _vectors(5)
    index = EmbeddingIndex(16)
    index.add([7, 8, 9, 10, 11], vectors)
    assert index.remove([8, 99]) == 1
    assert len(index) == 4 and 8 not in index
    _, ids = index.search(vectors[3:4], k=1)
    assert ids[0, 0] == 10
    index.add([10], vectors[0:1])  # replace 10's vector
    _, ids = index.search(vectors[0:1], k=2)
    assert set(ids[0]) == {7, 10}


def test_padding_when_fewer_than_k_and_empty_index():
    index = EmbeddingIndex(16)
    scores, ids = index.search(_vectors(1), k=3)
    assert ids.tolist() == [[-1, -1, -1]]
    index.add([1], _vectors(1))
    _, ids = index.search(_vectors(1), k=3)
    assert ids[0].tolist() == [1, -1, -1]


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_save_load_gives_identical_results(tmp_path, kind):
    vectors = _vectors(300)
    index = EmbeddingIndex(16, kind=kind)
    index.add(np.arange(300) * 3, vectors)
    before = index.search(vectors[:10], k=5)
    index.save(tmp_path / "idx")
    loaded = EmbeddingIndex.load(tmp_path / "idx")
    after = loaded.search(vectors[:10], k=5)
    assert np.array_equal(before[1], after[1]) and np.allclose(before[0], after[0])
    assert loaded.kind == kind and len(loaded) == 300


def test_damaged_index_is_a_clear_error(tmp_path):
    index = EmbeddingIndex(16)
    index.add([1, 2], _vectors(2))
    index.save(tmp_path / "idx")
    (tmp_path / "idx" / "index.faiss").write_bytes(b"garbage")
    with pytest.raises(LorasuiteError, match="rebuild"):
        EmbeddingIndex.load(tmp_path / "idx")
    with pytest.raises(LorasuiteError, match="missing or damaged"):
        EmbeddingIndex.load(tmp_path / "nothing")


def test_failed_save_keeps_the_old_index(tmp_path, monkeypatch):
    index = EmbeddingIndex(16)
    index.add([1, 2], _vectors(2))
    index.save(tmp_path / "idx")
    index.add([3], _vectors(1, seed=3))

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "save", boom)
    with pytest.raises(LorasuiteError, match="No space left on device.*previous index is unchanged"):
        index.save(tmp_path / "idx")
    monkeypatch.undo()
    assert len(EmbeddingIndex.load(tmp_path / "idx")) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]
