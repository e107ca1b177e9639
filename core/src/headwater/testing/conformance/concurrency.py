"""Concurrent writers on one store object: nothing lost, nothing duplicated.

A server shares one store between request threads, so every store must be
safe to call from several threads at once.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from headwater.testing.conformance.base import StoreConformanceBase, history, latest, metric, param, tag

THREADS = 4
PER_THREAD = 25


def run_in_threads(fn, count=THREADS):
    """Call fn(i) for i in range(count) on as many threads; re-raises the first error."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        for future in [pool.submit(fn, i) for i in range(count)]:
            future.result()


class ConcurrencyConformance(StoreConformanceBase):
    def test_metrics_to_the_same_run(self, tracking_store, run_id):
        def work(worker):
            for i in range(PER_THREAD):
                step = worker * PER_THREAD + i
                tracking_store.log_metric(run_id, metric("m", float(step), timestamp=1000 + step, step=step))

        run_in_threads(work)
        points = history(tracking_store, run_id, "m")
        total = THREADS * PER_THREAD
        assert [step for _, step, _ in points] == list(range(total))
        assert latest(tracking_store.get_run(run_id), "m").step == total - 1

    def test_params_and_tags_to_the_same_run(self, tracking_store, run_id):
        def work(worker):
            for i in range(PER_THREAD):
                tracking_store.log_param(run_id, param(f"p{worker}-{i}", str(i)))
                tracking_store.set_tag(run_id, tag(f"t{worker}-{i}", str(i)))

        run_in_threads(work)
        data = tracking_store.get_run(run_id).data
        expected = {f"{w}-{i}": str(i) for w in range(THREADS) for i in range(PER_THREAD)}
        assert data.params == {f"p{k}": v for k, v in expected.items()}
        assert {k: v for k, v in data.tags.items() if k.startswith("t")} == {
            f"t{k}": v for k, v in expected.items()
        }

    def test_same_param_same_value_from_many_threads(self, tracking_store, run_id):
        def work(worker):
            for i in range(5):
                tracking_store.log_param(run_id, param(f"shared{i}", "same"))

        run_in_threads(work)
        assert tracking_store.get_run(run_id).data.params == {f"shared{i}": "same" for i in range(5)}

    def test_racing_upserts_and_duplicates(self, tracking_store, run_id):
        # Same tag key, same metric point, from every thread at once: no
        # thread sees an error, one tag value and one point survive.
        def work(worker):
            for i in range(5):
                tracking_store.set_tag(run_id, tag(f"shared{i}", str(worker)))
                tracking_store.log_metric(run_id, metric("same", 1.0, timestamp=10 + i, step=i))

        run_in_threads(work)
        tags = tracking_store.get_run(run_id).data.tags
        assert all(tags[f"shared{i}"] in {str(w) for w in range(THREADS)} for i in range(5))
        assert history(tracking_store, run_id, "same") == [(10 + i, i, 1.0) for i in range(5)]

    def test_batches_to_the_same_run(self, tracking_store, run_id):
        def work(worker):
            for i in range(5):
                base = (worker * 5 + i) * 10
                tracking_store.log_batch(
                    run_id,
                    metrics=[
                        metric("m", float(base + j), timestamp=base + j, step=base + j) for j in range(10)
                    ],
                    params=[param(f"p{base}", "x")],
                    tags=[tag("last-writer", str(worker))],
                )

        run_in_threads(work)
        assert len(history(tracking_store, run_id, "m")) == THREADS * 5 * 10
        assert len(tracking_store.get_run(run_id).data.params) == THREADS * 5

    def test_writers_on_different_runs(self, tracking_store, experiment_id):
        run_ids = [tracking_store.create_run(experiment_id, start_time=i).info.run_id for i in range(THREADS)]

        def work(worker):
            run_id = run_ids[worker]
            for i in range(PER_THREAD):
                tracking_store.log_metric(run_id, metric("m", float(i), timestamp=1000 + i, step=i))
            tracking_store.log_param(run_id, param("worker", str(worker)))

        run_in_threads(work)
        for worker, run_id in enumerate(run_ids):
            assert len(history(tracking_store, run_id, "m")) == PER_THREAD
            assert tracking_store.get_run(run_id).data.params == {"worker": str(worker)}

    def test_runs_and_experiments_created_concurrently(self, tracking_store, experiment_id):
        created: list[str] = []
        experiments: list[str] = []

        def work(worker):
            experiments.append(tracking_store.create_experiment(f"concurrent-{experiment_id}-{worker}"))
            for _ in range(5):
                created.append(tracking_store.create_run(experiment_id, start_time=worker).info.run_id)

        run_in_threads(work)
        assert len(set(created)) == len(created) == THREADS * 5
        assert len(set(experiments)) == THREADS
        found = tracking_store.search_runs([experiment_id], max_results=100).items
        assert {r.info.run_id for r in found} == set(created)
