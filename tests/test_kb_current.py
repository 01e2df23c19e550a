"""The knowledge base kept current: each error entry added for the messages people paste most is found first for
a realistic paste of its message, and `kb check --stale DAYS` lists the entries not verified recently."""
import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot.cli.commands.kb import stale_entries

PASTES = yaml.safe_load((Path(__file__).parent / "eval" / "error_pastes.yaml").read_text())


@pytest.mark.parametrize("item", PASTES, ids=[p["id"] for p in PASTES])
def test_a_pasted_error_finds_its_entry_first(retriever, item):
    result = retriever.search(item["paste"], k=3)
    assert not result.declined and result.results[0].id == item["id"], [h.id for h in result.results]


def test_every_entry_records_when_and_against_what_it_was_verified(kb):
    missing = [e.id for e in kb.entries.values() if e.meta.verified is None or not e.meta.checked_against]
    assert missing == []


def test_stale_lists_entries_verified_longer_ago_than_the_limit(kb):
    today = dt.date(2026, 12, 4)
    fresh = stale_entries(kb, 10_000, today)
    assert fresh == []
    old = stale_entries(kb, 0, today + dt.timedelta(days=1))
    assert len(old) == len(kb.entries) and all(": verified: " in line for line in old)
