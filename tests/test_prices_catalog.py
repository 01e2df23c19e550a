"""knowledge/catalog/prices.yaml: every hardware figure names its source, used prices carry the date they were
observed, and every id is a hardware catalog id listed once (the schema alone checks none of this)."""
import datetime as dt

import pytest

from bot.calc.cost import CostRequest, estimate
from bot.calc.schema import load_prices
from tests.conftest import KNOWLEDGE


@pytest.fixture(scope="module")
def prices():
    return load_prices(KNOWLEDGE)


def test_each_hardware_id_is_in_the_catalog_once(prices, catalog):
    ids = [p.hardware for p in prices.hardware]
    assert len(ids) == len(set(ids))
    for hw_id in ids:
        assert catalog.gpu(hw_id).id == hw_id


def test_every_figure_names_its_source(prices):
    for p in prices.hardware:
        assert p.msrp_usd is not None or p.used_usd is not None, p.hardware
        if p.msrp_usd is not None:
            assert (p.msrp_source or "").startswith("https://"), p.hardware
        if p.used_usd is not None:
            assert (p.used_source or "").startswith("https://"), p.hardware
            assert p.used_as_of is not None and p.used_as_of <= dt.date.today(), p.hardware


def test_a_source_is_not_given_without_its_figure(prices):
    for p in prices.hardware:
        assert (p.msrp_source is None) == (p.msrp_usd is None), p.hardware
        assert (p.used_source is None) == (p.used_usd is None) == (p.used_as_of is None), p.hardware


def test_the_used_price_is_preferred_and_stated_with_its_date(engine, prices):
    r = estimate(CostRequest("llama 3.1 8b", "rtx 3060"), engine, prices)
    known = next(p for p in prices.hardware if p.hardware == "rtx-3060-12gb")
    assert r.inputs["price_usd"] == known.used_usd
    assert any(str(known.used_as_of) in note and known.used_source in note for note in r.assumptions)
