"""The editor code: which secrets are accepted, and how wrong codes are slowed down and recorded.

The code guards publication, the one action that changes what every visitor
sees. A short secret falls to guessing, so a configured secret that is blank
or shorter than :data:`MIN_SECRET_CHARS` is refused (:func:`secret_problem`).
Wrong codes are counted per browser session and per client address
(:class:`EditorCodeGuard`): after each one the next try must wait longer
(1, 2, 4, 8 s), and after :data:`MAX_FAILURES` within :data:`WINDOW_SECONDS`
that session or address is refused until the oldest of them is 15 minutes
old. Each wrong code is logged — time, session, address, never the code —
on the server's log and in the workspace's publication log
(:func:`record_refused_code`).

The counts live in the server process (one per replica behind nginx) and in
bounded memory: at most :data:`MAX_TRACKED` sessions and addresses, the
least recently seen dropped first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict

#: Shortest editor secret accepted.
MIN_SECRET_CHARS = 16
#: Wrong codes allowed within :data:`WINDOW_SECONDS`, per session and per client address.
MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
#: Most sessions and addresses whose wrong codes are remembered.
MAX_TRACKED = 10_000
_LOG = logging.getLogger("tdi_geo.editor")


def secret_problem(secret: str | None) -> str | None:
    """Why a configured editor secret is refused (French), or None when it is accepted or not configured.

    >>> secret_problem(None) is None, secret_problem("une phrase secrète assez longue") is None
    (True, True)
    >>> secret_problem("   ")[:40]
    'Code éditeur refusé : il est vide (que d'
    """
    if secret is None:
        return None
    if not secret.strip():
        return ("Code éditeur refusé : il est vide (que des espaces). La publication depuis l'application reste "
                f"désactivée ; configurez une phrase d'au moins {MIN_SECRET_CHARS} caractères.")
    if len(secret) < MIN_SECRET_CHARS:
        return (f"Code éditeur refusé : {len(secret)} caractères, moins que les {MIN_SECRET_CHARS} exigés (un code "
                "court se devine). La publication depuis l'application reste désactivée ; configurez une phrase "
                f"d'au moins {MIN_SECRET_CHARS} caractères.")
    return None


def _delay(failures: int) -> float:
    """Seconds to wait after the ``failures``-th wrong code (1, 2, 4, 8…)."""
    return float(2 ** (failures - 1)) if failures else 0.0


class EditorCodeGuard:
    """Wrong editor codes per key (a session, a client address), within a sliding window.

    ``clock`` is a function returning seconds (``time.monotonic``); tests give their own.
    """

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._failures: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        times = [t for t in self._failures.get(key, []) if now - t < WINDOW_SECONDS]
        if times:
            self._failures[key] = times
            self._failures.move_to_end(key)
        else:
            self._failures.pop(key, None)
        return times

    def wait(self, keys) -> tuple[float, bool]:
        """(seconds before a code may be tried for all ``keys``, whether that is a lockout)."""
        now = self.clock()
        longest, locked = 0.0, False
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= MAX_FAILURES:
                    longest, locked = max(longest, times[-MAX_FAILURES] + WINDOW_SECONDS - now), True
                elif times:
                    longest = max(longest, times[-1] + _delay(len(times)) - now)
        return max(longest, 0.0), locked

    def failed(self, keys) -> int:
        """Count one wrong code for each of ``keys``; returns the largest count within the window."""
        now = self.clock()
        counts = []
        with self._lock:
            for key in keys:
                times = self._recent(key, now) + [now]
                self._failures[key] = times
                self._failures.move_to_end(key)
                counts.append(len(times))
            while len(self._failures) > MAX_TRACKED:
                self._failures.popitem(last=False)
        return max(counts, default=0)

    def succeeded(self, keys) -> None:
        """The right code: forget these keys' wrong codes."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()


#: The server process's guard (every session of a Streamlit process shares it).
GUARD = EditorCodeGuard()


def record_refused_code(workspace, *, session: str, address: str, action: str) -> None:
    """Log a wrong editor code — when, which session and address, what it tried — never the code itself."""
    from tdi_geo.importers._workspace import append_event

    session, address, action = str(session)[:64], str(address)[:64], str(action)[:32]
    _LOG.warning("editor code refused: session=%s address=%s action=%s", session, address, action)
    append_event(workspace, {"action": "editor_code_refused", "session": session, "address": address,
                             "attempted": action})
