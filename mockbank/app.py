"""The app factory: one Flask app, a blueprint per provider, the control API and dashboard."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from flask import Flask
from werkzeug.routing import Map, Rule
from werkzeug.routing.matcher import StateMachineMatcher

from mockbank import control, dashboard, routing
from mockbank.config import Config
from mockbank.masking import MaskingFilter
from mockbank.state import State

if TYPE_CHECKING:
    from werkzeug.routing import RuleFactory

    from mockbank.providers import Provider


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


class _Map(Map):
    """werkzeug's Map, able to take a provider's rules while requests are being served.

    The rules are staged, a matcher holding the old rules and the new is built aside and
    swapped in whole: a request matched meanwhile sees all the old rules, never a matcher
    half changed (werkzeug's own `update` sorts the live rule lists in place, and a list being
    sorted looks empty to another thread).
    """

    _staged: list[Rule] | None = None

    def add(self, rulefactory: RuleFactory) -> None:
        if self._staged is None:
            super().add(rulefactory)
            return
        for rule in rulefactory.get_rules(self):
            rule.bind(self)
            self._staged.append(rule)

    @contextmanager
    def staging(self) -> Iterator[None]:
        """Rules added inside take effect together, when the block ends."""
        self.update()  # the live rules sorted now, while no rule is staged
        staged: list[Rule] = []
        self._staged = staged
        try:
            yield
        finally:
            self._staged = None
        matcher = StateMachineMatcher(self.merge_slashes)
        for rule in [*self._rules, *staged]:
            if not rule.build_only:
                matcher.add(rule)
        matcher.update()
        by_endpoint: dict[Any, list[Rule]] = {}
        for rule in staged:
            known = self._rules_by_endpoint.get(rule.endpoint, ())
            by_endpoint.setdefault(rule.endpoint, list(known)).append(rule)
        for endpoint, rules in by_endpoint.items():
            self._rules_by_endpoint[endpoint] = sorted(rules, key=lambda r: r.build_compare_key())
        self._matcher = matcher  # one assignment: matching reads it once per request


class _Flask(Flask):
    """Flask, deciding once per function whether it is async (Flask asks for every hook and
    view of every request), with URL builders made on first use, and each provider's views
    added on its first use (`add_views`)."""

    url_rule_class = _LazyRule
    url_map_class = _Map
    _adding_views = False  # Flask's own __init__ adds rules before ours runs

    def __init__(self, import_name: str) -> None:
        super().__init__(import_name)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}
        self._waiting: dict[str, Provider] = {}  # providers whose views are not added yet
        self._views_lock = threading.Lock()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        found = self._sync.get(func)
        if found is None:
            found = super().ensure_sync(func)
            if len(self._sync) < 4096:
                self._sync[func] = found
        return found

    def defer_views(self, providers: Iterable[Provider]) -> None:
        """Add these providers' views on their first use, not now."""
        self._waiting.update({provider.name: provider for provider in providers})

    def add_views(self, name: str) -> None:
        """Register provider `name`'s blueprint, if not yet: its module is imported now."""
        if name not in self._waiting:
            return
        with self._views_lock:
            provider = self._waiting.get(name)
            if provider is None:
                return
            blueprint = provider.emulation.blueprint
            with cast(_Map, self.url_map).staging():
                self._adding_views = True  # Flask refuses setup calls once it has served
                try:
                    self.register_blueprint(blueprint, url_prefix=provider.prefix)
                finally:
                    self._adding_views = False
            del self._waiting[name]
            routing.collect_endpoints(self, self.extensions["mockbank"], name)

    def _check_setup_finished(self, f_name: str) -> None:
        if not self._adding_views:
            super()._check_setup_finished(f_name)

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self._waiting:  # a provider's path adds its views before Flask matches the URL
            first = str(environ.get("PATH_INFO", ""))[1:].partition("/")[0]
            if first in self._waiting:
                self.add_views(first)
        return super().wsgi_app(environ, start_response)


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
    # A provider's views are added on its first use (a request under its prefix, or
    # `State.provider`), and at once for those the state already made ready.
    app.defer_views(state.providers.values())
    app.register_blueprint(control.bp, url_prefix="/_mockbank")
    app.register_blueprint(dashboard.bp)
    routing.install(app, state)
    state.on_ready.append(app.add_views)
    for name in [n for n in state.providers if state.is_ready(n)]:
        app.add_views(name)
    _install_log_masking()
    return app
