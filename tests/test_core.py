"""One core for every entry point: the CLI, the console and the Discord bot answer with the same router, built by
the same composition root, and a reload changes what the router knows."""
import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import get_args

import yaml
from conftest import KNOWLEDGE
from helpers import NEW_ENTRY

from bot.answer.pipeline import answer
from bot.core import Core, open_core
from bot.kinds import KINDS
from bot.routing.classify import Router
from bot.routing.schema import IntentKind

BOT = Path(__file__).resolve().parents[1] / "bot"
ROUTING = Path(__file__).resolve().parent / "eval" / "routing.yaml"



def willitrun(*args, stdin=None, env=None):
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          timeout=300, env=env)


def test_routers_are_built_only_by_the_core():
    builders = []
    for path in BOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Router":
                builders.append(str(path.relative_to(BOT)))
    assert builders == ["core.py"]


def test_willitrun_route_gives_exactly_the_bots_routes(core):
    messages = [m["text"] for m in yaml.safe_load(ROUTING.read_text())["messages"]][::3]
    run = willitrun("route", "--stdin", stdin="\n".join(messages) + "\n")
    assert run.returncode == 0, run.stderr
    cli = [json.loads(line) for line in run.stdout.splitlines()]
    bot = [core.router.route(m).model_dump(mode="json") for m in messages]
    assert cli == bot


def test_willitrun_ask_gives_the_bots_answer(core):
    questions = ["will llama 3.1 8b fit on a 3060 12gb?", "what gpu do i need for qwen2.5 72b", "what is gguf",
                 "whats the best pizza topping"]
    run = willitrun("ask", "--stdin", "--no-llm", stdin="\n".join(questions) + "\n")
    assert run.returncode == 0, run.stderr
    for line, question in zip(run.stdout.splitlines(), questions, strict=True):
        cli = json.loads(line)
        ours = answer(core, question)
        assert (cli["kind"], cli["text"], [s["id"] for s in cli["sources"]]) == \
               (ours.kind, ours.text, [s.id for s in ours.sources])


def test_every_routed_kind_has_a_module():
    # every kind the router can decide on is answered by a module
    assert set(get_args(IntentKind)) <= set(KINDS)
    assert {"finetune", "serve", "image", "cost"} <= set(KINDS)


def test_the_router_reads_its_vocabulary_from_the_cores_knowledge_base(core):
    assert isinstance(core.router, Router) and core.router is core.router


def test_reload_reads_a_changed_knowledge_folder_and_keeps_the_old_core_whole(core, tmp_path):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    settings = core.settings.model_copy(update={"knowledge_dir": knowledge, "index_dir": tmp_path / "index"})
    before = open_core(settings, backend=None, embedder=core.retriever.embedder)
    question = "what is a zorbix cache?"
    assert before.router.route(question).route == "none"

    (knowledge / "glossary" / "zorbix-cache.md").write_text(NEW_ENTRY)
    after = before.reload()
    assert isinstance(after, Core) and after is not before
    assert after.router.route(question).route == "knowledge"
    assert answer(after, question).sources[0].id == "zorbix-cache"
    # a question in flight on the old core still gets the old core's answer
    assert before.router.route(question).route == "none" and "zorbix-cache" not in before.kb.entries
    assert after.retriever.embedder is core.retriever.embedder
