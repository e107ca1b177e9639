"""Headwater's Prometheus exporter: ``/metrics`` on the tracking server.

Enable it with ``HEADWATER_PROMETHEUS=1``. See docs/contrib/prometheus.md.
"""
