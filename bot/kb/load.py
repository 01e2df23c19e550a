"""Read every entry, report every problem as `file: field: message`, never stop at the first one."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.catalog.load import NameIndex, build_name_index, normalize
from bot.kb.schema import ERROR_CATEGORIES, GLOSSARY_CATEGORIES, SECTIONS, Entry, FrontMatter

REQUIRED_LIST = Path(__file__).resolve().parents[2].parent / "shared" / "kb-required.yaml"
_HEADING = re.compile(r"^## +(.+?)\s*$", re.MULTILINE)


@dataclass
class KnowledgeBase:
    entries: dict[str, Entry]
    _names: NameIndex = field(init=False, repr=False)

    def __post_init__(self):
        self._names = build_name_index(self.entries.values(), lambda e: e.id,
                                       lambda e: [e.id, e.title, *e.meta.aliases])

    def find(self, name: str) -> Entry:
        """An entry by id, title or alias, as people type it; unknown names suggest the closest ones."""
        return self._names.find("knowledge entry", name)


def split_front_matter(text: str) -> tuple[str, str] | None:
    if not text.startswith("---"):
        return None
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        return None
    head = parts[0][3:]
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    return head, body


def parse_entry(path: Path, kind: str) -> tuple[Entry | None, list[str]]:
    problems: list[str] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{path}: file: cannot read ({exc})"]
    split = split_front_matter(text)
    if split is None:
        return None, [f"{path}: front matter: missing; the file must start with '---', YAML, then '---'"]
    head, body = split
    try:
        raw = yaml.safe_load(head)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 2})" if where else ""
        return None, [f"{path}: front matter: invalid YAML{line}: {getattr(exc, 'problem', exc)}"]
    if not isinstance(raw, dict):
        return None, [f"{path}: front matter: expected key: value pairs"]
    try:
        meta = FrontMatter.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "front matter"
            problems.append(f"{path}: {loc}: {err['msg']}")
        return None, problems

    if meta.id != path.stem:
        problems.append(f"{path}: id: '{meta.id}' must equal the file name '{path.stem}'")
    allowed = GLOSSARY_CATEGORIES if kind == "glossary" else ERROR_CATEGORIES
    if meta.category not in allowed:
        problems.append(f"{path}: category: '{meta.category}' is not one of {', '.join(allowed)}")
    if kind == "errors" and not meta.symptoms:
        problems.append(f"{path}: symptoms: an error entry lists at least one message people paste")
    sections = _sections(body)
    if not body.strip():
        problems.append(f"{path}: body: empty")
    else:
        expected = list(SECTIONS[kind])
        if list(sections) != expected:
            problems.append(f"{path}: body: sections must be {', '.join(expected)} in this order; found "
                            f"{', '.join(sections) or 'none'}")
        for name, content in sections.items():
            if not content.strip():
                problems.append(f"{path}: body.{name}: empty section")
    entry = Entry(kind=kind, meta=meta, sections=sections, path=str(path))
    return (None if problems else entry), problems


def _sections(body: str) -> dict[str, str]:
    marks = list(_HEADING.finditer(body))
    out: dict[str, str] = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(body)
        out[m.group(1)] = body[m.end():end].strip()
    return out


def load_knowledge(knowledge_dir: Path, required: Path | None = REQUIRED_LIST
                   ) -> tuple[KnowledgeBase, list[str]]:
    """All valid entries and the problems of the others, plus cross-entry checks (required ids, related ids,
    unique aliases)."""
    knowledge_dir = Path(knowledge_dir)
    entries: dict[str, Entry] = {}
    problems: list[str] = []
    for kind in ("glossary", "errors"):
        for path in sorted((knowledge_dir / kind).glob("*.md")):
            entry, found = parse_entry(path, kind)
            problems += found
            if entry is not None:
                if entry.id in entries:
                    problems.append(f"{path}: id: '{entry.id}' is also {entries[entry.id].path}")
                entries[entry.id] = entry
    problems += _cross_checks(entries, knowledge_dir, required)
    return KnowledgeBase(entries), problems


def _cross_checks(entries: dict[str, Entry], knowledge_dir: Path, required: Path | None) -> list[str]:
    problems: list[str] = []
    all_ids = set(entries) | {p.stem for k in ("glossary", "errors") for p in (knowledge_dir / k).glob("*.md")}
    for e in entries.values():
        for rel in e.meta.related:
            if rel not in all_ids:
                problems.append(f"{e.path}: related: '{rel}' is not an entry")
            if rel == e.id:
                problems.append(f"{e.path}: related: an entry cannot relate to itself")
    owner: dict[str, str] = {}
    for e in entries.values():
        for name in (e.id, e.title):
            owner.setdefault(normalize(name), e.id)
    for e in entries.values():
        seen_here: set[str] = set()
        for alias in e.meta.aliases:
            key = normalize(alias)
            if key in seen_here:  # "q4km" and "q4_k_m" are one name to the lookup: harmless
                continue
            seen_here.add(key)
            if owner.get(key, e.id) != e.id:
                problems.append(f"{e.path}: aliases: '{alias}' also names entry '{owner[key]}'")
            else:
                owner[key] = e.id
    if required is not None and Path(required).exists():
        wanted = yaml.safe_load(Path(required).read_text(encoding="utf-8")) or {}
        for kind in ("glossary", "errors"):
            for rid in wanted.get(kind, {}) or {}:
                if not (knowledge_dir / kind / f"{rid}.md").exists():
                    problems.append(f"{knowledge_dir / kind / (rid + '.md')}: file: required entry is missing")
    return problems


def render_entry(entry: Entry) -> str:
    """The entry as the bot shows it: title, summary, sections, sources."""
    lines = [f"# {entry.title}", "", entry.meta.summary, ""]
    for name, text in entry.sections.items():
        lines += [f"## {name}", text, ""]
    lines.append("Sources:")
    lines += [f"  [{i}] {s.title}: {s.url}" for i, s in enumerate(entry.meta.sources, 1)]
    return "\n".join(lines)
