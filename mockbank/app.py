"""The app factory: one Flask app, a blueprint per provider, the control API and dashboard."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask
from werkzeug.routing import Rule

from mockbank import control, dashboard, routing
from mockbank.config import Config
from mockbank.masking import MaskingFilter
from mockbank.state import State


class _LazyRule(Rule):
    """A URL rule whose URL builders (code werkzeug generates and compiles per rule) are made
    on the first `url_for` that needs them, not at start: most rules are never built."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        made: list[Callable[..., tuple[str, str]]] = []

        def build(rule: Rule, *args: Any, **kwargs: Any) -> tuple[str, str]:
            if not made:
                made.append(Rule._compile_builder(rule, append_unknown))
            return made[0](rule, *args, **kwargs)

        return build


class _Flask(Flask):
    """Flask, deciding once per function whether it is async (Flask asks for every hook and
    view of every request), with URL builders made on first use."""

    url_rule_class = _LazyRule

    def __init__(self, import_name: str) -> None:
        super().__init__(import_name)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        found = self._sync.get(func)
        if found is None:
            found = super().ensure_sync(func)
            if len(self._sync) < 4096:
                self._sync[func] = found
        return found


def _install_log_masking() -> None:
    # The server's access log prints paths and queries; a card number must never reach it.
    for name in ("werkzeug", "waitress", "mockbank"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskingFilter) for f in logger.filters):
            logger.addFilter(MaskingFilter())


def create_app(
    config: Config | Mapping[str, Any] | None = None, *, state: State | None = None
) -> Flask:
    """Build an app; everything mutable lives in one `State` in ``app.extensions``."""
    if state is None:
        if config is None:
            config = Config()
        elif not isinstance(config, Config):
            config = Config.from_mapping(config)
        state = State(config.normalized())
    app = _Flask("mockbank")
    app.config["MAX_CONTENT_LENGTH"] = state.config.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["mockbank"] = state
    for provider in state.providers.values():
        app.register_blueprint(provider.blueprint, url_prefix=provider.prefix)
    app.register_blueprint(control.bp, url_prefix="/_mockbank")
    app.register_blueprint(dashboard.bp)
    routing.install(app, state)
    _install_log_masking()
    return app
