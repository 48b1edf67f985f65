"""The QuickStream REST API (``/quickstream/rest/v1``) and the quickstream-api.js Trusted Frame.

Served by the QuickStream blueprint under ``/rest/v1`` (``routes.py`` mounts ``rest.routes.bp``),
so the real hosts ``api.quickstream.westpac.com.au`` and ``api.quickstream.support.qvalent.com``
route here in process exactly as QuickWeb's hosts do. The same shape as the provider's:
``routes``, ``models/`` (``payments``, ``customers``, ``tokens``, ``idempotency``, ``fields``),
``records``, ``errors``, ``auth``, ``admin``; and ``wire`` (Westpac's spelling), ``frame`` (the
Trusted Frame's views).
"""
