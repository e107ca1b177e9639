"""Headwater alerts: notify a webhook (Slack-compatible) when runs meet a condition.

See docs/contrib/alerts.md.
"""
