"""Figures in entries agree with the sizing engine; a wrong figure is caught."""
from conftest import KNOWLEDGE

from bot.kb.claims import claim_problems
from bot.kb.load import KnowledgeBase, load_knowledge
from bot.kb.schema import SizingClaim


def test_every_figure_in_the_knowledge_base_agrees_with_the_engine(engine):
    kb, _ = load_knowledge(KNOWLEDGE)
    assert claim_problems(kb, engine) == []


def test_a_figure_that_disagrees_is_reported(engine):
    kb, _ = load_knowledge(KNOWLEDGE)
    entry = kb.entries["quantization"]
    wrong = SizingClaim(model="llama-3.1-8b", quant="Q4_K_M", context=8192, field="weights_gb", value=3.0)
    doctored = entry.model_copy(update={"meta": entry.meta.model_copy(update={"sizing_claims": [wrong]})})
    [problem] = claim_problems(KnowledgeBase({entry.id: doctored}), engine)
    assert "disagrees with the sizing engine" in problem
