"""Read and validate the catalogs once; look names up the way people type them."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError
from rapidfuzz import fuzz, process

from bot.catalog.schema import FileType, Hardware, Model, QuantCatalog, Representative, TensorType
from bot.errors import CatalogError, UnknownNameError

MAX_FUZZY_CHARS = 100


def normalize(name: str) -> str:
    """'RTX-3090 Ti' and 'rtx3090ti' are the same name to a person; make them the same key."""
    return re.sub(r"[^a-z0-9.]", "", name.lower().replace("+", "plus"))


def distinct_labels(matches, labels: list[str], limit: int, min_score: float = 50) -> list[str]:
    """The first `limit` different labels of rapidfuzz `matches` (choice, score, index), best first, that score at
    least `min_score`: several names of one entry count once."""
    out: list[str] = []
    for _, score, i in matches:
        if score >= min_score and labels[i] not in out:
            out.append(labels[i])
        if len(out) == limit:
            break
    return out


@dataclass(frozen=True)
class NameIndex:
    """Names as people type them (normalized) to items, with fuzzy suggestions for a name that is not there."""

    by_key: dict[str, object]
    keys: list[str]            # normalized names for fuzzy matching
    key_labels: list[str]      # the id each key belongs to, shown in suggestions

    def find(self, kind: str, name: str, limit: int = 3):
        key = normalize(name)
        if key in self.by_key:
            return self.by_key[key]
        # no catalog name is longer than this; fuzzy matching a pasted 10,000-character "name" whole takes seconds
        matches = process.extract(key[:MAX_FUZZY_CHARS], self.keys, scorer=fuzz.WRatio, limit=limit * 4)
        raise UnknownNameError(kind, name, distinct_labels(matches, self.key_labels, limit))


def build_name_index(items, label_of, names_of) -> NameIndex:
    by_key: dict[str, object] = {}
    keys, key_labels = [], []
    for item in items:
        for n in names_of(item):
            k = normalize(n)
            if k and k not in by_key:
                by_key[k] = item
                keys.append(k)
                key_labels.append(label_of(item))
    return NameIndex(by_key, keys, key_labels)


@dataclass
class Catalog:
    hardware: list[Hardware]
    models: list[Model]
    quants: QuantCatalog
    # typical architectures for sizes named without a family (representative.yaml)
    representative: list[Representative] = field(default_factory=list)
    _hw: NameIndex = field(init=False, repr=False)
    _models: NameIndex = field(init=False, repr=False)
    _ftypes: NameIndex = field(init=False, repr=False)
    _ttypes: dict[str, TensorType] = field(init=False, repr=False)

    def __post_init__(self):
        self._hw = build_name_index(self.hardware, lambda h: h.id, lambda h: [h.id, h.name, *h.aliases])
        self._models = build_name_index(self.models, lambda m: m.id, lambda m: [m.id, m.name, *m.aliases])
        self._ftypes = build_name_index(self.quants.file_types, lambda q: q.name, lambda q: [q.name, *q.aliases])
        self._ttypes = {t.name: t for t in self.quants.tensor_types}

    def gpu(self, name: str) -> Hardware:
        return self._hw.find("GPU or hardware", name)

    def model(self, name: str) -> Model:
        return self._models.find("model", name)

    def file_type(self, name: str) -> FileType:
        return self._ftypes.find("quantization", name)

    def tensor_type(self, name: str) -> TensorType:
        try:
            return self._ttypes[name.upper()]
        except KeyError:
            close = [n for n in self._ttypes if n.startswith(name.upper()[:2])][:5]
            raise UnknownNameError("tensor type", name, close) from None


def _read_yaml(path: Path, problems: list[str]):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        problems.append(f"{path}: yaml: {exc}".replace("\n", " "))
        return None


def _validation_problems(path: Path, prefix: str, exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        out.append(f"{path}: {prefix}{'.' if loc else ''}{loc}: {err['msg']}")
    return out


def _load_list(folder: Path, schema, problems: list[str]):
    items = []
    for path in sorted(folder.glob("*.yaml")):
        data = _read_yaml(path, problems)
        if data is None:
            continue
        if not isinstance(data, list):
            problems.append(f"{path}: (top level): expected a list of entries")
            continue
        for i, raw in enumerate(data):
            label = raw.get("id", f"[{i}]") if isinstance(raw, dict) else f"[{i}]"
            try:
                items.append(schema.model_validate(raw))
            except ValidationError as exc:
                problems.extend(_validation_problems(path, str(label), exc))
    return items


def _duplicate_names(items, names_of, path_label: str, problems: list[str]):
    seen: dict[str, str] = {}
    for item in items:
        for n in names_of(item):
            k = normalize(n)
            if k in seen and seen[k] != item.id:
                problems.append(f"{path_label}: {item.id}.aliases: '{n}' also names {seen[k]}")
            seen.setdefault(k, item.id)


def load_catalog_checked(knowledge_dir: Path) -> tuple[Catalog | None, list[str]]:
    """Validate everything and return (catalog, problems); the catalog is None when anything is wrong."""
    problems: list[str] = []
    root = Path(knowledge_dir) / "catalog"
    hardware = _load_list(root / "hardware", Hardware, problems)
    models = _load_list(root / "models", Model, problems)
    quants = None
    qpath = root / "quants.yaml"
    data = _read_yaml(qpath, problems) if qpath.exists() else None
    if data is None and not qpath.exists():
        problems.append(f"{qpath}: (file): missing")
    elif data is not None:
        try:
            quants = QuantCatalog.model_validate(data)
        except ValidationError as exc:
            problems.extend(_validation_problems(qpath, "", exc))
    _duplicate_names(hardware, lambda h: [h.id, h.name, *h.aliases], str(root / "hardware"), problems)
    _duplicate_names(models, lambda m: [m.id, m.name, *m.aliases], str(root / "models"), problems)
    if quants is not None:
        known = {t.name for t in quants.tensor_types}
        for ft in quants.file_types:
            if ft.default_type and ft.default_type not in known:
                problems.append(f"{qpath}: file_types.{ft.name}.default_type: unknown tensor type {ft.default_type}")
        for m in models:
            if m.default_quant and m.default_quant not in {f.name for f in quants.file_types}:
                problems.append(f"{root / 'models'}: {m.id}.default_quant: unknown quantization {m.default_quant}")
    representative = _load_representative(root / "representative.yaml", {m.id for m in models}, problems)
    if problems or quants is None:
        return None, problems
    return Catalog(hardware=hardware, models=models, quants=quants, representative=representative), []


def _load_representative(path: Path, model_ids: set[str], problems: list[str]) -> list[Representative]:
    """Optional: the typical architectures that size a model named only by its size."""
    if not path.exists():
        return []
    data = _read_yaml(path, problems)
    if not isinstance(data, list):
        problems.append(f"{path}: (top level): expected a list of entries")
        return []
    out = []
    for i, raw in enumerate(data):
        try:
            item = Representative.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_validation_problems(path, f"[{i}]", exc))
            continue
        if item.model not in model_ids:
            problems.append(f"{path}: [{i}].model: unknown model {item.model}")
        out.append(item)
    return out


@lru_cache(maxsize=4)
def load_catalog(knowledge_dir: Path) -> Catalog:
    """The validated catalog, read once per process; raises CatalogError naming every bad file and field."""
    catalog, problems = load_catalog_checked(Path(knowledge_dir))
    if catalog is None:
        raise CatalogError(problems)
    return catalog
