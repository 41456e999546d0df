"""Prepare the next items in a worker thread while the caller works on the current one (docs/decisions/125).

    for canvas in prefetched(batches, prepare, depth=1):   # prepare(batch k+1) runs while the caller uses k
        ...

Order is kept (one worker, first in first out). An exception raised by `prepare` reaches the caller as the same
exception object, at the item it belongs to, after the items prepared before it. At most `depth` prepared items
wait in the queue, so memory stays bounded. When the caller stops early (cancel, an error, `break`), closing the
generator stops the worker and waits for it: no thread outlives the prediction. depth 0 prepares in line, in the
caller's thread (the old path; benchmarks compare the two).
"""
from __future__ import annotations

import queue
import threading
from typing import Callable, Iterable, Iterator, TypeVar

Item = TypeVar("Item")
Prepared = TypeVar("Prepared")

_DONE = object()
_POLL_SECONDS = 0.05  # how often a blocked worker looks whether the caller has gone


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(items: Iterable[Item], prepare: Callable[[Item], Prepared], depth: int = 1) -> Iterator[Prepared]:
    """prepare(item) for each item, in order, computed up to `depth` items ahead in one worker thread."""
    if depth <= 0:
        for item in items:
            yield prepare(item)
        return
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    worker = threading.Thread(target=_work, args=(items, prepare, ready, stop), name="prefetch", daemon=True)
    worker.start()
    try:
        while True:
            value = ready.get()
            if value is _DONE:
                return
            if isinstance(value, _Failure):
                raise value.error
            yield value
    finally:
        stop.set()
        worker.join()


def _work(items: Iterable, prepare: Callable, ready: queue.Queue, stop: threading.Event) -> None:
    try:
        for item in items:
            if stop.is_set() or not _put(ready, prepare(item), stop):
                return
    except BaseException as error:  # noqa: BLE001 - handed to the caller, which raises it
        _put(ready, _Failure(error), stop)
        return
    _put(ready, _DONE, stop)


def _put(ready: queue.Queue, value, stop: threading.Event) -> bool:
    """Wait for room in the queue unless the caller has gone; False when it has."""
    while not stop.is_set():
        try:
            ready.put(value, timeout=_POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False
