"""`willitrun kb check`: the real knowledge base validates, and each kind of malformed file gets a precise message."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.kb.load import load_knowledge, render_entry

KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"
GOOD = """---
id: {id}
title: {title}
aliases: [{alias}]
category: concepts
summary: A short standalone answer.
related: [{related}]
sources:
  - title: llama.cpp
    url: https://github.com/ggml-org/llama.cpp
updated: 2026-11-24
---
## Definition
Text.
## Deeper dive
Text.
## Practical example
Text.
## Workflow example
Text.
"""


def write(folder: Path, entry_id: str, text: str) -> Path:
    path = folder / "glossary" / f"{entry_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def entry(entry_id="alpha", title="Alpha", alias="first letter", related="beta"):
    return GOOD.format(id=entry_id, title=title, alias=alias, related=related)


@pytest.fixture
def kb_dir(tmp_path):
    write(tmp_path, "alpha", entry())
    write(tmp_path, "beta", entry("beta", "Beta", "second letter", "alpha"))
    (tmp_path / "errors").mkdir()
    return tmp_path


def problems_of(kb_dir):
    return load_knowledge(kb_dir, required=None)[1]


def test_the_real_knowledge_base_has_no_problems():
    kb, problems = load_knowledge(KNOWLEDGE)
    assert problems == []
    assert len(kb.entries) >= 169


def test_valid_fixture_has_no_problems(kb_dir):
    assert problems_of(kb_dir) == []


def test_bad_yaml_names_the_file_and_line(kb_dir):
    path = write(kb_dir, "alpha", entry().replace("title: Alpha", "title: [Alpha"))
    [problem] = problems_of(kb_dir)
    assert problem.startswith(f"{path}: front matter: invalid YAML")


def test_missing_field_names_the_field(kb_dir):
    path = write(kb_dir, "alpha", entry().replace("summary: A short standalone answer.\n", ""))
    assert f"{path}: summary: Field required" in problems_of(kb_dir)


def test_unknown_related_id_is_reported(kb_dir):
    path = write(kb_dir, "alpha", entry(related="gamma"))
    assert f"{path}: related: 'gamma' is not an entry" in problems_of(kb_dir)


def test_duplicate_alias_across_entries_is_reported(kb_dir):
    path = write(kb_dir, "beta", entry("beta", "Beta", "First Letter", "alpha"))
    assert f"{path}: aliases: 'First Letter' also names entry 'alpha'" in problems_of(kb_dir)


def test_empty_body_is_reported(kb_dir):
    path = write(kb_dir, "alpha", entry().split("## Definition")[0])
    assert f"{path}: body: empty" in problems_of(kb_dir)


def test_summary_over_the_limit_is_reported(kb_dir):
    path = write(kb_dir, "alpha", entry().replace("A short standalone answer.", "x" * 301))
    assert any(p.startswith(f"{path}: summary:") for p in problems_of(kb_dir))


def test_id_must_match_the_file_name(kb_dir):
    path = write(kb_dir, "alpha", entry().replace("id: alpha", "id: alfa"))
    assert f"{path}: id: 'alfa' must equal the file name 'alpha'" in problems_of(kb_dir)


def test_missing_required_entry_is_reported(kb_dir, tmp_path):
    required = tmp_path / "required.yaml"
    required.write_text("glossary:\n  alpha: Alpha\n  gamma: Gamma\nerrors: {}\n")
    problems = load_knowledge(kb_dir, required=required)[1]
    assert f"{kb_dir / 'glossary' / 'gamma.md'}: file: required entry is missing" in problems


def test_a_bad_file_does_not_hide_the_others(kb_dir):
    write(kb_dir, "alpha", "no front matter at all")
    kb, problems = load_knowledge(kb_dir, required=None)
    assert "beta" in kb.entries and len(problems) >= 1


def test_kb_check_exits_non_zero_on_problems(tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(KNOWLEDGE.parent / "bot", copy / "bot")
    shutil.copytree(KNOWLEDGE, copy / "knowledge")
    (copy / "knowledge" / "glossary" / "kv-cache.md").write_text("---\nid: [\n---\n")
    run = subprocess.run([sys.executable, "-m", "bot.cli", "kb", "check"], cwd=copy, capture_output=True, text=True)
    assert run.returncode == 1
    assert "kv-cache.md: front matter: invalid YAML" in run.stdout


def test_kb_show_finds_an_entry_by_alias_and_renders_sources():
    kb, _ = load_knowledge(KNOWLEDGE)
    text = render_entry(kb.find("Q4_K_M"))
    assert text.startswith("# Q4_K_M") and "Sources:" in text
