"""Headwater webhooks: HTTP notifications of tracking and registry events.

Subscriptions are managed through MLflow's webhook REST endpoints
(``/api/2.0/mlflow/webhooks``) and ``headwater webhooks``; deliveries are signed
and carry the headers MLflow's webhooks send, so receivers written for MLflow
verify them. See docs/contrib/webhooks.md.
"""
