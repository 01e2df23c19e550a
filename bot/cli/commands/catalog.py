"""`willitrun catalog add`: a catalog entry for a model no catalog has, from Hugging Face (--from-hf REPO), a
config.json (--from-config FILE) or a GGUF file (--from-gguf FILE), printed as YAML in the style of
knowledge/catalog/models/*.yaml for a maintainer to review, complete (aliases, family, sources) and commit."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from bot.catalog.load import load_catalog
from bot.catalog.schema import Model
from bot.errors import InvalidRequestError
from bot.hub.client import HubClient
from bot.hub.config import model_from_config, normalize_id
from bot.settings import Settings
from bot.sizing.gguf_file import read_gguf

# printed even at their defaults, as every catalog entry does; the rest only when they differ from the default
ALWAYS = {"id", "name", "family", "architecture", "aliases", "params_b", "active_params_b", "layers", "hidden_size",
          "intermediate_size", "attention_heads", "kv_heads", "head_dim_k", "head_dim_v", "vocab_size",
          "context_length", "tied_embeddings", "sliding_window", "mla", "moe", "sources"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    catalog = sub.add_parser("catalog", help="catalog tools").add_subparsers(dest="catalog_command", required=True)
    add = catalog.add_parser("add", help="print a catalog entry (YAML) for a model, to review and commit")
    source = add.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-hf", metavar="REPO", help="a Hugging Face repo id, e.g. Qwen/Qwen3-8B")
    source.add_argument("--from-config", metavar="FILE", help="a local config.json")
    source.add_argument("--from-gguf", metavar="FILE", help="a local GGUF file (its header)")
    add.add_argument("--quant", help="--from-hf on a GGUF repo: the file to read, e.g. Q4_K_M")
    add.add_argument("--repo", help="--from-config: the repo it came from, for the id and the sources")
    add.set_defaults(func=run_add, uses_core=False)


def run_add(args: argparse.Namespace, settings: Settings) -> int:
    if args.from_hf:
        hub = HubClient(settings, load_catalog(settings.knowledge_dir))
        try:
            result = hub.lookup(args.from_hf, args.quant)
        finally:
            hub.close()
        if result is None:
            raise InvalidRequestError(f"'{args.from_hf}' is not a Hugging Face repo id (owner/name)"
                                      + (", and HF_HUB_OFFLINE is on with nothing cached." if settings.hf_hub_offline
                                         else "."))
        model, note = result.model, f"Generated {result.source_note} ({result.url})"
        model = model.model_copy(update={"id": normalize_id(result.repo.split("/", 1)[1])})
    elif args.from_config:
        path = Path(args.from_config)
        try:
            config = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise InvalidRequestError(f"{path} is not a readable config.json ({exc}).") from None
        repo = args.repo or f"local/{path.resolve().parent.name}"
        model = model_from_config(config, repo, "https://huggingface.co", params_total=None)
        local = {} if args.repo else {"aliases": [], "sources": [path.resolve().as_uri()]}
        model = model.model_copy(update={"id": normalize_id(repo.split("/", 1)[1]), **local})
        note = f"Generated from {path} (parameters counted from the tensor shapes)"
    else:
        sized = read_gguf(args.from_gguf, load_catalog(settings.knowledge_dir))
        model, note = sized.model, f"Generated from the header of {args.from_gguf} ({sized.quant.name})"
    print(entry_yaml(model, note))
    return 0


def entry_yaml(model: Model, note: str) -> str:
    """`model` as one item of a catalog models file: flow style for short lists and nested objects, sources as a
    block list, as the hand-written files are laid out."""
    defaults = {name: f.default for name, f in Model.model_fields.items()}
    lines = [f"# {note}.", "# Review every figure against the model card, add aliases people type, then commit."]
    for key, value in model.model_dump().items():
        if key not in ALWAYS and value == defaults.get(key):
            continue
        if key in ("params_b", "active_params_b") and value is not None:
            value = round(value, 3)
        if key == "sources":
            lines.append("  sources:")
            lines += [f"    - {source}" for source in value]
        else:
            lines.append(f"{'- ' if key == 'id' else '  '}{key}: {_flow(value)}")
    return "\n".join(lines) + "\n"


def _flow(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return json.dumps(value)
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).removesuffix("\n...\n").strip()

