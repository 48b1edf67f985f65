"""QuickStream / QuickWeb rules: token requests, handoff, payments, passback and notification.

Nothing here imports flask: every function takes the store, the fixtures and ``now`` (the app
clock) so the rules are testable without HTTP. Money is integer cents, formatted at the edge.
Import each rule from its submodule (``models.paying``, ``models.token_request``...).
"""
