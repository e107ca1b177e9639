"""Concurrent writers on one registry store: distinct consecutive version numbers, no lost writes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from headwater.testing.registry_conformance.base import RegistryConformanceBase

THREADS = 4
PER_THREAD = 5


def _in_threads(fn, count: int = THREADS) -> list:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return [f.result() for f in [pool.submit(fn, i) for i in range(count)]]


class RegistryConcurrencyConformance(RegistryConformanceBase):
    def test_versions_created_at_once_get_consecutive_numbers(self, registry_store, model_name):
        def work(worker):
            return [
                registry_store.create_model_version(model_name, f"s3://bucket/{worker}/{i}").version
                for i in range(PER_THREAD)
            ]

        numbers = sorted(int(n) for batch in _in_threads(work) for n in batch)
        assert numbers == list(range(1, THREADS * PER_THREAD + 1))
        sources = {v.source for v in registry_store.search_model_versions(f"name = '{model_name}'")}
        assert len(sources) == THREADS * PER_THREAD

    def test_racing_tag_and_alias_writes(self, registry_store, model_name):
        self.add_versions(registry_store, model_name, THREADS)

        def work(worker):
            for i in range(PER_THREAD):
                registry_store.set_registered_model_tag(model_name, "shared", f"{worker}-{i}")
                registry_store.set_model_version_tag(model_name, "1", "shared", f"{worker}-{i}")
                registry_store.set_registered_model_alias(model_name, "champion", str(worker + 1))

        _in_threads(work)
        model = registry_store.get_registered_model(model_name)
        assert model.tags["shared"].endswith(f"-{PER_THREAD - 1}")
        assert model.aliases["champion"] in {str(w + 1) for w in range(THREADS)}
        assert registry_store.get_model_version(model_name, "1").tags["shared"].endswith(f"-{PER_THREAD - 1}")
