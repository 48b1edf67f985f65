"""Forter's rules, one module per subject; no flask here (every function takes the store and the
app clock's ``now``): `cards` (validating a tokenize body, the sandbox cards), `tokens` (the
vault), `detokenize` (which token a proxied request names, placeholders), `signing` (HMAC and
Ixopay), `spending` (when single-use tokens are spent), `proxying` (a proxied request end to
end)."""
