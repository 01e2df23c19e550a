"""The catalogs load, are large enough, carry sources, and a malformed file names the file and the field."""
import shutil
from pathlib import Path

from bot.catalog.load import load_catalog_checked

KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"


def test_catalog_sizes(catalog):
    assert len(catalog.hardware) >= 80
    assert len(catalog.models) >= 50
    assert all(h.sources for h in catalog.hardware) and all(m.sources for m in catalog.models)


def test_every_vendor_and_kind_is_covered(catalog):
    assert {h.vendor for h in catalog.hardware} >= {"nvidia", "amd", "intel", "apple", "cpu"}
    assert {h.kind for h in catalog.hardware} == {"gpu", "unified", "cpu"}


def test_a_malformed_catalog_entry_names_file_and_field(tmp_path):
    shutil.copytree(KNOWLEDGE / "catalog", tmp_path / "catalog")
    bad = tmp_path / "catalog" / "hardware" / "zz-bad.yaml"
    bad.write_text("- id: bad-card\n  name: Bad\n  vendor: nvidia\n  kind: gpu\n  memory_gb: -1\n"
                   "  bandwidth_gbs: 100\n  backends: [cuda]\n  sources: [x]\n")
    catalog, problems = load_catalog_checked(tmp_path)
    assert catalog is None
    assert any(p.startswith(f"{bad}: bad-card.memory_gb:") for p in problems)


def test_duplicate_alias_between_cards_is_reported(tmp_path):
    shutil.copytree(KNOWLEDGE / "catalog", tmp_path / "catalog")
    dup = tmp_path / "catalog" / "hardware" / "zz-dup.yaml"
    dup.write_text("- id: fake-3090\n  name: Fake\n  aliases: ['3090']\n  vendor: nvidia\n  kind: gpu\n"
                   "  memory_gb: 24\n  bandwidth_gbs: 900\n  backends: [cuda]\n  sources: [x]\n")
    _, problems = load_catalog_checked(tmp_path)
    assert any("'3090' also names" in p for p in problems)
