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


def catalog_with_extra_hardware(tmp_path, name: str, yaml_text: str):
    """A copy of the real catalog plus one more hardware file; returns (that file, catalog, problems)."""
    shutil.copytree(KNOWLEDGE / "catalog", tmp_path / "catalog")
    extra = tmp_path / "catalog" / "hardware" / name
    extra.write_text(yaml_text)
    return (extra, *load_catalog_checked(tmp_path))


def test_a_malformed_catalog_entry_names_file_and_field(tmp_path):
    bad, catalog, problems = catalog_with_extra_hardware(
        tmp_path, "zz-bad.yaml", "- id: bad-card\n  name: Bad\n  vendor: nvidia\n  kind: gpu\n  memory_gb: -1\n"
                                 "  bandwidth_gbs: 100\n  backends: [cuda]\n  sources: [x]\n")
    assert catalog is None
    assert any(p.startswith(f"{bad}: bad-card.memory_gb:") for p in problems)


def test_duplicate_alias_between_cards_is_reported(tmp_path):
    _, _, problems = catalog_with_extra_hardware(
        tmp_path, "zz-dup.yaml", "- id: fake-3090\n  name: Fake\n  aliases: ['3090']\n  vendor: nvidia\n  kind: gpu\n"
                                 "  memory_gb: 24\n  bandwidth_gbs: 900\n  backends: [cuda]\n  sources: [x]\n")
    assert any("'3090' also names" in p for p in problems)
