"""TokenOS rules, one module per resource: members, aliases, banks, token requests, consent,
smart tokens, transfers, accounts, standing orders, and the current API's payments, VRP and
refunds.

Functions take the store, what they need, and ``now`` (the app clock); no Flask here. Callers
import the module that holds a rule (``from mockbank.providers.tokenos.models import tokens``):
this package re-exports nothing, so every name has one import path.
"""
