"""MLflow's search grammar: parsing filters and order_by into :mod:`headwater.search.ast`.

``parse_filter`` / ``parse_order_by`` check every rule of the grammar for one
search kind ("runs", "experiments", "registered_models", "model_versions");
stores compile the result. :mod:`headwater.search.evaluate` applies it in
Python for stores that cannot compile it to SQL.
"""

from headwater.search.ast import Comparison, OrderKey
from headwater.search.errors import SearchSyntaxError
from headwater.search.order import parse_order_by
from headwater.search.parser import parse_filter

__all__ = ["Comparison", "OrderKey", "SearchSyntaxError", "parse_filter", "parse_order_by"]
