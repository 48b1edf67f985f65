"""Client helpers for each emulated provider: what an integrator's own code would do.

One module per provider (`mockbank.clients.<name>`), one import path each. They speak the
providers' wire formats over HTTP (or build signed values), import nothing from the app, and
work as well against the real providers' sandboxes as against mockbank.
"""
