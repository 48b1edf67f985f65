"""A forward proxy with TLS interception that hands each request to a WSGI app's view.

Generic: the provider that mounts it passes a `mockbank.proxy.tenant.Tenant` (the app paths of
its views and its own status phrases). `server.ForwardProxy` is the listener, `ca.LocalCA` the
local CA, `resources.ProxyResources` the CA and upstream pool a `State` owns.
"""
