"""search_experiments: filters, order_by, view types (search-grammar.md §3)."""

from __future__ import annotations

import pytest

from headwater.entities import ViewType
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.testing.conformance.base import StoreConformanceBase, raises_code

INVALID = ErrorCode.INVALID_PARAMETER_VALUE

# The fresh store holds "Default"; the fixture adds these (and one deleted experiment).
CATALOGUE = {"proj-a": {"owner": "ana"}, "proj-b": {"owner": "bob"}, "Proj-C": {}, "other": {"kind": "misc"}}
DELETED = "proj-gone"
ACTIVE = ["Default", *CATALOGUE]

FILTER_CASES = [
    ("name = 'proj-a'", ["proj-a"]),
    ('name = "proj-a"', ["proj-a"]),
    ("name != 'proj-a'", ["Default", "proj-b", "Proj-C", "other"]),
    ("name LIKE 'proj-%'", ["proj-a", "proj-b"]),
    ("name ILIKE 'proj-%'", ["proj-a", "proj-b", "Proj-C"]),
    ("name LIKE '%-_'", ["proj-a", "proj-b", "Proj-C"]),
    ("attribute.name = 'other'", ["other"]),
    ("attributes.name = 'other'", ["other"]),
    ("tags.owner = 'ana'", ["proj-a"]),
    ("tag.owner != 'ana'", ["proj-b"]),
    ("tags.owner IS NULL", ["Default", "Proj-C", "other"]),
    ("tags.owner IS NOT NULL", ["proj-a", "proj-b"]),
    ("tags.owner LIKE 'b%'", ["proj-b"]),
    ("tags.owner ILIKE 'ANA'", ["proj-a"]),
    ("experiment_id = '{proj-a}'", ["proj-a"]),
    ("experiment_id IN ('{proj-a}', '{other}')", ["proj-a", "other"]),
    ("experiment_id NOT IN ('0', '{proj-a}')", ["proj-b", "Proj-C", "other"]),
    ("experiment_id != '0'", list(CATALOGUE)),
    ("creation_time > 0", ACTIVE),
    ("creation_time < 0", []),
    ("last_update_time >= 0", ACTIVE),
    ("name LIKE 'proj-%' and tags.owner = 'ana' and creation_time > 1700000000000", ["proj-a"]),
    ("", ACTIVE),
]

INVALID_FILTERS = [
    "attr.name = 'other'",
    "run.name = 'other'",
    "name IS NULL",
    "name IN ('other')",
    "creation_time > 1.5",
    "creation_time > '5'",
    "name = 'a' OR name = 'b'",
    "params.x = 'a'",
    "metrics.m = 1",
    "lifecycle_stage = 'active'",
    "name = other",
]


class SearchExperimentsConformance(StoreConformanceBase):
    @pytest.fixture
    def catalogue(self, tracking_store) -> dict[str, str]:
        ids = {name: tracking_store.create_experiment(name, tags=tags) for name, tags in CATALOGUE.items()}
        ids[DELETED] = tracking_store.create_experiment(DELETED, tags={"owner": "ana"})
        tracking_store.delete_experiment(ids[DELETED])
        ids["Default"] = "0"
        return ids

    @staticmethod
    def names(store, **kwargs) -> list[str]:
        return [e.name for e in store.search_experiments(**kwargs).items]

    def test_experiment_filter(self, tracking_store, catalogue):
        # One test for every case: the catalogue is built once and every wrong case is reported.
        wrong = []
        for filter_string, expected in FILTER_CASES:
            try:
                got = sorted(self.names(tracking_store, filter_string=filter_string.format(**catalogue)))
            except HeadwaterError as err:
                got = f"{err.error_code}: {err.message}"
            if got != sorted(expected):
                wrong.append(f"{filter_string!r}: expected {sorted(expected)}, got {got}")
        assert not wrong, "\n".join(wrong)

    @pytest.mark.parametrize("filter_string", INVALID_FILTERS)
    def test_invalid_experiment_filter(self, tracking_store, filter_string):
        with raises_code(INVALID):
            tracking_store.search_experiments(filter_string=filter_string)

    def test_experiment_view_types(self, tracking_store, catalogue):
        assert sorted(self.names(tracking_store)) == sorted(ACTIVE)
        assert self.names(tracking_store, view_type=ViewType.DELETED_ONLY) == [DELETED]
        assert sorted(self.names(tracking_store, view_type=ViewType.ALL)) == sorted([*ACTIVE, DELETED])
        deleted_of_ana = self.names(
            tracking_store, view_type=ViewType.ALL, filter_string="tags.owner = 'ana'"
        )
        assert sorted(deleted_of_ana) == sorted(["proj-a", DELETED])

    def test_order_by_name(self, tracking_store, catalogue):
        assert self.names(tracking_store, order_by=["name"]) == sorted(ACTIVE)
        assert self.names(tracking_store, order_by=["attribute.name DESC"]) == sorted(ACTIVE, reverse=True)

    def test_order_by_experiment_id_is_numeric(self, tracking_store, catalogue):
        # Enough experiments that ids reach two digits, where text order would differ.
        for i in range(8):
            tracking_store.create_experiment(f"extra-{i}")
        exps = tracking_store.search_experiments(order_by=["experiment_id DESC"]).items
        ids = [int(e.experiment_id) for e in exps]
        assert ids == sorted(ids, reverse=True) and max(ids) >= 10
        asc = [
            int(e.experiment_id) for e in tracking_store.search_experiments(order_by=["experiment_id"]).items
        ]
        assert asc == sorted(ids)

    @pytest.mark.parametrize("order_by", [None, ["creation_time"], ["last_update_time DESC"]])
    def test_time_order_and_tie_breakers(self, tracking_store, catalogue, order_by):
        # Default: creation_time DESC, experiment_id ASC. With a time key named,
        # the tie-breaker is experiment_id DESC.
        for i in range(10):
            tracking_store.create_experiment(f"burst-{i}")
        exps = tracking_store.search_experiments(order_by=order_by).items
        if order_by is None:
            expected = sorted(exps, key=lambda e: (-e.creation_time, int(e.experiment_id)))
        elif order_by == ["creation_time"]:
            expected = sorted(exps, key=lambda e: (e.creation_time, -int(e.experiment_id)))
        else:
            expected = sorted(exps, key=lambda e: (-e.last_update_time, -int(e.experiment_id)))
        assert [e.experiment_id for e in exps] == [e.experiment_id for e in expected]

    def test_rename_moves_an_experiment_up_by_last_update_time(self, tracking_store, catalogue):
        import time

        time.sleep(0.01)
        tracking_store.rename_experiment(catalogue["proj-a"], "proj-a-renamed")
        first = tracking_store.search_experiments(order_by=["last_update_time DESC"]).items[0]
        assert first.name == "proj-a-renamed"

    @pytest.mark.parametrize("order_by", ["tags.owner", "foo", "name sideways", "lifecycle_stage"])
    def test_invalid_experiment_order_by(self, tracking_store, order_by):
        with raises_code(INVALID):
            tracking_store.search_experiments(order_by=[order_by])

    def test_returned_experiments_are_complete(self, tracking_store, catalogue):
        [exp] = tracking_store.search_experiments(filter_string="name = 'proj-b'").items
        assert exp == tracking_store.get_experiment(catalogue["proj-b"])
        assert exp.tags == {"owner": "bob"}
