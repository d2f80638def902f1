"""Bounded, shared, in-process caches: one result for every visitor, computed once.

The app serves many sessions from one process. What depends only on the
dataset and the view state (the view, its map layer, its figures) is the
same for all of them, so it is computed once and then handed out as is:

- **bounded**: at most ``max_entries`` results (least recently used go first),
  and optionally dropped ``ttl`` seconds after they were computed, so no
  visitor can make the cache grow without limit (the URL's key space is open);
- **single flight**: when twenty sessions ask for the same missing key at
  once, one computes it and the others wait for that result, instead of
  twenty computing it side by side on two cores;
- **no copies**: the stored object itself is returned (unlike
  ``st.cache_data``, which unpickles a fresh copy on every call). Callers
  treat results as read-only; pandas' copy-on-write (pandas ≥ 3) makes a
  shallow ``copy(deep=False)`` a safe private copy when one is needed.

An exception is not cached: the next call tries again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["BoundedCache"]


class _Pending:
    """A computation in flight: waiters block on ``done`` and read ``value`` or ``error``."""

    __slots__ = ("done", "value", "error")

    def __init__(self):
        self.done = threading.Event()
        self.value = None
        self.error: BaseException | None = None


class BoundedCache:
    """A thread-safe LRU cache with an entry limit, an optional time to live and single-flight misses.

    Parameters
    ----------
    max_entries : int
        Most results kept; the least recently used is dropped first.
    ttl : float, optional
        Seconds after which a result is computed again (None: kept until evicted).
    clock : callable, optional
        Monotonic time source (tests pass a fake one).

    Examples
    --------
    >>> cache = BoundedCache(max_entries=2)
    >>> cache.get_or_compute("a", lambda: 1), cache.get_or_compute("a", lambda: 2)
    (1, 1)
    >>> _ = cache.get_or_compute("b", lambda: 2); _ = cache.get_or_compute("c", lambda: 3)
    >>> len(cache), "a" in cache
    (2, False)
    """

    def __init__(self, max_entries: int, ttl: float | None = None, clock: Callable[[], float] = time.monotonic):
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = int(max_entries)
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._pending: dict[Hashable, _Pending] = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return self._fresh(key) is not None

    def _fresh(self, key: Hashable):
        """The stored ``(time, value)`` of ``key`` if still fresh (lock held); drops it if stale."""
        item = self._items.get(key)
        if item is None:
            return None
        if self.ttl is not None and self._clock() - item[0] > self.ttl:
            del self._items[key]
            return None
        return item

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The cached value of ``key``, or ``compute()``'s, stored (one computation per key at a time)."""
        with self._lock:
            item = self._fresh(key)
            if item is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return item[1]
            pending = self._pending.get(key)
            owner = pending is None
            if owner:
                pending = self._pending[key] = _Pending()
                self.misses += 1
        if not owner:
            pending.done.wait()
            if pending.error is not None:
                raise pending.error
            return pending.value
        try:
            value = compute()
        except BaseException as exc:
            pending.error = exc
            raise
        else:
            pending.value = value
            with self._lock:
                self._items[key] = (self._clock(), value)
                self._items.move_to_end(key)
                while len(self._items) > self.max_entries:
                    self._items.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._pending.pop(key, None)
            pending.done.set()

    def clear(self) -> None:
        """Forget every result (computations in flight still finish for their callers)."""
        with self._lock:
            self._items.clear()
