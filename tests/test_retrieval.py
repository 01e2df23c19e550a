"""Retrieval: tokenisation, the persisted FAISS index (incremental, atomic, self-healing) and hybrid search, with the
real embedding model, real FAISS and real BM25."""
import json
import logging
import shutil
from pathlib import Path

import pytest

from bot.kb.load import load_knowledge
from bot.retrieval.dense_index import INDEX_FILE, MANIFEST_FILE, open_dense_index
from bot.retrieval.passages import all_passages, entry_passages
from bot.retrieval.search import Retriever
from bot.retrieval.tokens import tokenize

KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"
SMALL_KB = ["glossary/q4-k-m.md", "glossary/kv-cache.md", "glossary/gguf.md", "errors/cuda-out-of-memory.md",
            "errors/rocm-not-detected.md"]


@pytest.fixture
def small_kb_dir(tmp_path):
    for name in SMALL_KB:
        (tmp_path / "knowledge" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(KNOWLEDGE / name, tmp_path / "knowledge" / name)
    return tmp_path / "knowledge"


def _open(kb_dir, index_dir, embedder, force=False):
    kb, problems = load_knowledge(kb_dir, required=None)
    return open_dense_index(index_dir, all_passages(kb), embedder, force=force)


# ---------------------------------------------------------------- tokenisation
def test_compound_terms_are_found_whole_and_by_their_parts():
    assert {"q4_k_m", "q4", "k", "m"} <= set(tokenize("Q4_K_M"))
    assert {"llama.cpp", "llama", "cpp"} <= set(tokenize("llama.cpp"))
    assert {"cuda_error_out_of_memory", "cuda", "error", "memory"} <= set(tokenize("CUDA_ERROR_OUT_OF_MEMORY"))
    assert "ngl" in tokenize("-ngl 99")


def test_camel_case_error_names_are_split():
    assert {"hip", "error", "binary", "gpu"} <= set(tokenize("hipErrorNoBinaryForGpu"))


def test_common_words_are_not_tokens():
    assert tokenize("what is the best way to do it") == ["best"]


# ---------------------------------------------------------------- the persisted index
def test_each_symptom_is_its_own_passage():
    kb, _ = load_knowledge(KNOWLEDGE, required=None)
    entry = kb.entries["cuda-out-of-memory"]
    texts = [p.text for p in entry_passages(entry)]
    assert all(symptom in texts for symptom in entry.meta.symptoms)


def test_second_open_reuses_the_index_without_embedding(small_kb_dir, tmp_path, embedder):
    _, first = _open(small_kb_dir, tmp_path / "index", embedder)
    _, second = _open(small_kb_dir, tmp_path / "index", embedder)
    assert first.reason == "no index" and first.embedded == first.total > 0
    assert second.reason == "up to date" and second.embedded == 0 and second.total == first.total


def test_changing_one_entry_re_embeds_only_its_changed_passage(small_kb_dir, tmp_path, embedder):
    _open(small_kb_dir, tmp_path / "index", embedder)
    path = small_kb_dir / "glossary" / "kv-cache.md"
    text = path.read_text()
    path.write_text(text.replace("summary: ", "summary: Changed. ", 1))
    index, stats = _open(small_kb_dir, tmp_path / "index", embedder)
    assert stats.reason == "changed entries"
    assert (stats.embedded, stats.removed, stats.changed_entries) == (1, 1, ["kv-cache"])
    assert sum(p["entry"] == "kv-cache" for p in index.passages.values()) == \
        len(entry_passages(load_knowledge(small_kb_dir, required=None)[0].entries["kv-cache"]))


def test_deleting_an_entry_removes_its_vectors(small_kb_dir, tmp_path, embedder):
    _open(small_kb_dir, tmp_path / "index", embedder)
    (small_kb_dir / "glossary" / "gguf.md").unlink()
    index, stats = _open(small_kb_dir, tmp_path / "index", embedder)
    assert stats.embedded == 0 and stats.removed > 0
    assert "gguf" not in {p["entry"] for p in index.passages.values()}
    assert index.index.ntotal == len(index.passages)


def test_a_corrupt_index_file_is_rebuilt_with_a_log_line(small_kb_dir, tmp_path, embedder, caplog):
    _, first = _open(small_kb_dir, tmp_path / "index", embedder)
    (tmp_path / "index" / INDEX_FILE).write_bytes(b"not a faiss index")
    with caplog.at_level(logging.WARNING):
        index, stats = _open(small_kb_dir, tmp_path / "index", embedder)
    assert "does not match its manifest" in caplog.text and "rebuilding" in caplog.text
    assert stats.embedded == first.total and index.index.ntotal == first.total


def test_an_index_built_with_another_model_is_rebuilt(small_kb_dir, tmp_path, embedder, caplog):
    _open(small_kb_dir, tmp_path / "index", embedder)
    manifest_path = tmp_path / "index" / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    manifest["model"] = "some-other-model"
    manifest_path.write_text(json.dumps(manifest))
    with caplog.at_level(logging.WARNING):
        _, stats = _open(small_kb_dir, tmp_path / "index", embedder)
    assert "built with some-other-model" in caplog.text and stats.embedded == stats.total


def test_an_unreadable_manifest_is_rebuilt(small_kb_dir, tmp_path, embedder, caplog):
    _open(small_kb_dir, tmp_path / "index", embedder)
    (tmp_path / "index" / MANIFEST_FILE).write_text("{ truncated")
    with caplog.at_level(logging.WARNING):
        _, stats = _open(small_kb_dir, tmp_path / "index", embedder)
    assert "unreadable index" in caplog.text and stats.embedded == stats.total


def test_writes_leave_no_temporary_files(small_kb_dir, tmp_path, embedder):
    _open(small_kb_dir, tmp_path / "index", embedder)
    assert sorted(p.name for p in (tmp_path / "index").iterdir()) == sorted([INDEX_FILE, MANIFEST_FILE])


def test_force_rebuilds_everything(small_kb_dir, tmp_path, embedder):
    _, first = _open(small_kb_dir, tmp_path / "index", embedder)
    _, forced = _open(small_kb_dir, tmp_path / "index", embedder, force=True)
    assert forced.embedded == first.total


# ---------------------------------------------------------------- search
def test_a_pasted_traceback_finds_its_entry_by_the_exact_string(retriever):
    log = ("Traceback (most recent call last):\n  File \"train.py\", line 88, in <module>\n"
           "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity "
           "of 23.65 GiB of which 1.12 GiB is free.")
    result = retriever.search(log)
    assert result.results[0].id == "cuda-out-of-memory"
    assert "exact" in result.results[0].sides and not result.declined


@pytest.mark.parametrize("query", ["Q4_K_M", "what is q4 k m", "q4_k_m vs q5_k_m which one"])
def test_quant_names_are_found_whole_and_by_parts(retriever, query):
    assert retriever.search(query).results[0].id in {"q4-k-m", "q5-k-m", "k-quants"}


def test_bm25_side_finds_an_error_identifier_the_embedding_model_never_saw(retriever):
    ids = [e for e, _ in retriever.bm25_ranking("hipErrorNoBinaryForGpu", k=3)]
    assert "hsa-override-gfx-version" in ids or "rocm-not-detected" in ids


@pytest.mark.parametrize("query", ["whats the best pizza topping", "how do i center a div in css",
                                   "happy birthday mike!!"])
def test_off_topic_questions_are_declined(retriever, query):
    assert retriever.search(query).declined


def test_an_ordinary_question_is_answered_not_declined(retriever):
    result = retriever.search("how do i make llama.cpp use my gpu")
    assert not result.declined and result.results


def test_search_json_keys_are_stable(retriever):
    data = json.loads(retriever.search("what is the kv cache", k=3).model_dump_json())
    assert {"query", "declined", "results"} <= set(data)
    assert len(data["results"]) == 3
    assert all({"id", "kind", "title", "score"} <= set(hit) for hit in data["results"])
    assert data["results"][0]["kind"] in ("glossary", "error")


def test_results_are_ordered_by_fused_score(retriever):
    scores = [h.score for h in retriever.search("ollama does not use my gpu", k=5).results]
    assert scores == sorted(scores, reverse=True)


def test_each_mode_uses_only_its_side(retriever):
    assert all(h.sides == ["dense"] for h in retriever.search("kv cache", mode="dense").results)
    assert all(h.sides == ["bm25"] for h in retriever.search("kv cache", mode="bm25").results)


def test_retriever_over_a_small_kb_ranks_its_own_entries(small_kb_dir, tmp_path, embedder):
    kb, _ = load_knowledge(small_kb_dir, required=None)
    small, _ = Retriever.open(kb, tmp_path / "index", embedder)
    assert small.search("rocm does not see my radeon").results[0].id == "rocm-not-detected"


def test_a_missing_embedding_model_directory_says_what_to_do(tmp_path):
    from bot.retrieval.embed import Embedder, EmbeddingModelError

    with pytest.raises(EmbeddingModelError, match="does not exist.*nothing is downloaded"):
        Embedder(tmp_path / "no-such-model")


def test_a_malformed_entry_is_skipped_and_named_while_the_rest_is_searchable(small_kb_dir, tmp_path, embedder,
                                                                              caplog):
    from bot.core import open_core
    from bot.settings import Settings

    shutil.copytree(KNOWLEDGE / "catalog", small_kb_dir / "catalog")
    (small_kb_dir / "glossary" / "broken.md").write_text("---\nid: broken\ntitle: [unclosed\n---\nbody\n")
    with caplog.at_level(logging.WARNING):
        core = open_core(Settings(knowledge_dir=small_kb_dir, index_dir=tmp_path / "index"), backend=None,
                         embedder=embedder)
        small = core.retriever
    assert "broken.md" in caplog.text
    assert small.search("what does q4_k_m mean").results[0].id == "q4-k-m"


def test_a_question_that_names_an_entry_ranks_that_entry_first(retriever):
    result = retriever.search("what is the kv cache?")
    assert result.results[0].id == "kv-cache" and "name" in result.results[0].sides
    assert result.evidence.named and not result.declined


def test_an_entrys_cosine_is_its_best_passage(retriever):
    vector = retriever.embedder.embed_query("ollama does not use my gpu")
    ranking = dict(retriever.dense.search_entries(vector, k=len(retriever.kb.entries)))
    for entry_id in ("ollama-gpu-not-used", "q4-k-m", "rocm"):
        assert retriever.dense.entry_cosine(vector, entry_id) == pytest.approx(ranking[entry_id], abs=1e-5)
