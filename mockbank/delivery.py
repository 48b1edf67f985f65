"""One delivery worker per process for every outbox: the default sandbox's and each sandbox's.

Each `State` has an `Outbox` of its own (its messages under its own store prefix, its retries on
its own app clock, its own fault rules). What they share is the app's `Delivery`: one worker
thread that finds the outboxes with work and delivers what is due in each, on that outbox's
clock.

Finding work costs one store query per poll however many sandboxes there are. An outbox with a
message outstanding (pending, or being delivered) has a *mark*: one record per outbox, all in one
namespace of the app's own store. The worker lists the marks, looks only into the marked
outboxes, and takes a mark away once its outbox has nothing outstanding. With a shared store
(SQLite, PostgreSQL) every process reads the same marks, so any process may deliver any
sandbox's messages; each attempt is still claimed atomically on the message itself, so exactly
one process makes it.

The worker finds the work; the attempts are made by a few sender threads (`SENDERS`), each
outbox's due messages by one sender, in order. A receiver that is slow to answer (an attempt
waits up to its 5 s timeout) or a latency fault then holds one sender, and the other sandboxes'
notifications go out meanwhile.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mockbank.clock import monotonic
from mockbank.store import Record, Store

if TYPE_CHECKING:
    from mockbank.outbox import Message, Outbox

# Not under "mockbank." nor a provider's name nor "sandbox:": resetting any sandbox (the
# default one included) leaves the other sandboxes' marks where they are.
WORK_NAMESPACE = "mockbank-outbox.work"
# The default sandbox's mark ("default" is never a named sandbox's name).
DEFAULT_KEY = "default"
THREAD_NAME = "mockbank-outbox"
# Attempts made at once, each for a different outbox (threads made as needed, at most these).
SENDERS = 8
SENDER_THREAD_PREFIX = f"{THREAD_NAME}-sender"
_RECORD_TIME = datetime(2000, 1, 1, tzinfo=UTC)
log = logging.getLogger("mockbank.outbox")

# The live sandboxes' outboxes among these names (an unknown or expired one is left out).
SandboxOutboxes = Callable[[list[str]], dict[str, "Outbox"]]
# A message due in an outbox, and the instant on that outbox's clock it was found due at.
_Due = tuple["Outbox", "Message", datetime]


class Delivery:
    """The app's delivery worker and the marks that tell it which outboxes have work."""

    def __init__(self, store: Store, sandboxes: SandboxOutboxes | None = None) -> None:
        self.store = store
        # Set by the state that owns the sandboxes: how a mark's sandbox is found and checked.
        self.sandboxes = sandboxes
        self.cond = threading.Condition()
        self._outboxes: dict[str, Outbox] = {}
        self._worker: threading.Thread | None = None
        self._senders: ThreadPoolExecutor | None = None
        self._sending: set[str] = set()  # outboxes a sender is delivering for now
        self._stopping = False
        self._wakeups = 0
        self.rounds = 0
        # Other processes mark work too: a shared store is polled; here a mark also notifies.
        self.poll_s = 0.25 if store.persistent else 0.05

    # -- outboxes and marks -----------------------------------------------------------------
    def register(self, outbox: Outbox) -> None:
        with self.cond:
            self._outboxes[outbox.key] = outbox

    def unregister(self, outbox: Outbox) -> None:
        with self.cond:
            if self._outboxes.get(outbox.key) is outbox:
                del self._outboxes[outbox.key]

    def start(self) -> None:
        """Start polling now when other processes may have queued work (a shared store)."""
        if self.store.persistent:
            with self.cond:
                self._ensure_worker()

    def mark(self, key: str) -> None:
        """Outbox `key` has a message outstanding (written after the message itself)."""
        self.store.put(WORK_NAMESPACE, key, {"token": secrets.token_hex(8)}, now=_RECORD_TIME)
        with self.cond:
            self._ensure_worker()
            self._wake_locked()

    def forget(self, key: str) -> None:
        """Drop a deleted sandbox's mark."""
        self.store.delete(WORK_NAMESPACE, key)

    def _unmark(self, mark: Record) -> None:
        """Take a mark away, unless it was written again since it was read (new work)."""
        taken = self.store.take_once(WORK_NAMESPACE, mark.key, now=_RECORD_TIME)
        if taken is not None and taken != mark.value:
            self.store.put(WORK_NAMESPACE, mark.key, taken, now=_RECORD_TIME)

    def wake(self) -> None:
        with self.cond:
            self._wake_locked()

    def _wake_locked(self) -> None:
        self._wakeups += 1
        self.cond.notify_all()

    def wait_rounds(self, count: int = 2, timeout: float = 10.0) -> bool:
        """Wait until the worker has looked at every mark `count` more times; False on timeout."""
        deadline = monotonic() + timeout
        with self.cond:
            target = self.rounds + count
            self._ensure_worker()
            self._wake_locked()
            while self.rounds < target:
                remaining = deadline - monotonic()
                if remaining <= 0 or self._stopping:
                    return False
                self.cond.wait(min(remaining, 0.05))
        return True

    # -- the worker -------------------------------------------------------------------------
    def _ensure_worker(self) -> None:
        if self._stopping:
            return
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
            self._worker.start()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the worker and the senders (after the attempts they are making) and wait."""
        with self.cond:
            self._stopping = True
            self.cond.notify_all()
            worker, senders = self._worker, self._senders
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout=timeout)
        if senders is not None:  # each attempt ends within its timeout; queued ones are dropped
            senders.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        while True:
            with self.cond:
                if self._stopping:
                    return
                seen = self._wakeups
            attempted = self._round()
            with self.cond:
                self.rounds += 1
                self.cond.notify_all()
                if self._stopping:
                    return
                if not attempted and self._wakeups == seen:
                    # Real time passing also makes retries due when a clock is not frozen.
                    self.cond.wait(self.poll_s)

    def _round(self) -> bool:
        """Deliver what is due in every marked outbox; True when an attempt was made."""
        try:
            marks = [r for r in self.store.records(WORK_NAMESPACE) if not r.used]
            outboxes, checked = self._outboxes_for([m.key for m in marks])
        except Exception:
            self._log_failure("reading the outbox marks")
            return False
        queues: list[list[_Due]] = []
        for mark in marks:
            outbox = outboxes.get(mark.key)
            try:
                if outbox is not None:
                    queues.append(self._due_in(outbox, mark))
                elif mark.key in checked:  # a deleted or expired sandbox: nothing to deliver
                    self._unmark(mark)
            except Exception:
                self._log_failure(f"reading outbox {mark.key!r}")
        return self._hand_out(queues)

    def _outboxes_for(self, keys: list[str]) -> tuple[dict[str, Outbox], set[str]]:
        """The outboxes behind these marks, and the keys checked against the sandbox registry."""
        with self.cond:
            found = {k: self._outboxes[k] for k in keys if k in self._outboxes}
        names = [k for k in keys if k != DEFAULT_KEY]
        if self.sandboxes is None or not names:
            return found, set()
        live = self.sandboxes(names)
        return {k: v for k, v in found.items() if k == DEFAULT_KEY} | live, set(names)

    def _due_in(self, outbox: Outbox, mark: Record) -> list[_Due]:
        """The messages due in one outbox; its mark goes once nothing is outstanding there."""
        outstanding, due, now = outbox.work()
        if not outstanding:
            self._unmark(mark)
        return [(outbox, message, now) for message in due]

    def _hand_out(self, queues: list[list[_Due]]) -> bool:
        """Each outbox's due messages to a sender, unless one is still at work on that outbox
        (it finds the rest next round); True when a sender was given work."""
        handed = False
        for queue in queues:
            if not queue:
                continue
            key = queue[0][0].key
            with self.cond:
                if self._stopping or key in self._sending:
                    continue
                if self._senders is None:
                    self._senders = ThreadPoolExecutor(SENDERS, SENDER_THREAD_PREFIX)
                self._sending.add(key)
                senders = self._senders
            senders.submit(self._send, key, queue)
            handed = True
        return handed

    def _send(self, key: str, queue: list[_Due]) -> None:
        """Deliver one outbox's due messages in order (a sender thread)."""
        try:
            for outbox, message, now in queue:
                if self._stopping:
                    return
                try:
                    outbox.deliver(message, now)
                except Exception:
                    self._log_failure(f"delivering message {message.id} of outbox {key!r}")
        finally:
            with self.cond:
                self._sending.discard(key)
                self._wake_locked()  # the worker looks again: more may be due there

    def _log_failure(self, what: str) -> None:
        if not self._stopping:  # a store closing under a stopping worker is no news
            log.exception("outbox worker: %s failed; trying again at the next poll", what)
