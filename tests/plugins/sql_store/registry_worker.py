"""A separate process for the SQL registry's multi-process tests (run as a script).

    python registry_worker.py URI MODEL N    create N versions of MODEL, print their numbers
"""

from __future__ import annotations

import sys

from headwater_store_sql.registry_store import SqlRegistryStore

if __name__ == "__main__":
    uri, model, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = SqlRegistryStore(uri)
    try:
        for i in range(count):
            print(store.create_model_version(model, f"s3://bucket/{model}/{i}").version, flush=True)
    finally:
        store.close()
