"""MLflow's search grammar: parsing filters and order_by into :mod:`headwater.search.ast`."""
