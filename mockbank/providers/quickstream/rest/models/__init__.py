"""The QuickStream REST API's rules (no Flask): single-use tokens (``tokens``), transactions
(``payments``), customers and QuickVault accounts (``customers``), Idempotency-Key replays
(``idempotency``), and reading request bodies (``fields``). Each takes the store, the facility
and ``now`` as arguments.
"""
