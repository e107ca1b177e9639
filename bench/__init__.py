"""Benchmarks of Headwater against MLflow on this machine (not tests: nothing here asserts).

- ``python -m bench.store``: the SQL tracking store in process, beside MLflow's SqlAlchemyStore.
- ``python -m bench.server``: ``headwater server`` and ``mlflow server`` over HTTP, beside an
  HTTP floor (a bare Starlette endpoint) and a storage floor (raw sqlite3 inserts).

Both take ``--quick`` for a small smoke run; results go to ``bench/results/`` as JSON and
are printed as a table. See docs/benchmarks.md.
"""
