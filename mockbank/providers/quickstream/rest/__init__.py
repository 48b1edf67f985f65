"""The QuickStream REST API (``/quickstream/rest/v1``) and the quickstream-api.js Trusted Frame.

Served by the QuickStream blueprint under ``/rest/v1`` (``routes.py`` mounts ``rest.routes.bp``),
so the real hosts ``api.quickstream.westpac.com.au`` and ``api.quickstream.support.qvalent.com``
route here in process exactly as QuickWeb's hosts do. The same shape as the provider's:
``routes``, ``records``, ``errors``, ``auth``, ``admin``, and the models (``payments``,
``customers``, ``tokens``, ``idempotency``), ``wire`` (Westpac's spelling), ``frame``.
"""
