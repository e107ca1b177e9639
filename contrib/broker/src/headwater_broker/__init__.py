"""Headwater's NATS JetStream publisher: one subject per event name, the event id as message id.

Enable it on the server with ``HEADWATER_NATS_URL=nats://127.0.0.1:4222``.
See docs/contrib/broker.md.
"""
