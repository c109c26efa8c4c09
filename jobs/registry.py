"""Handlers: plain functions registered under a stable dotted name with their default run options."""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import random
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobs.exceptions import InvalidJob, UnknownHandler

Backoff = Callable[[int], float]

# Who may enqueue a handler (`enqueue_permission=`), checked by jobs.permissions; or a Django
# permission "app.codename", or a function of the user returning a bool.
AUTHENTICATED = "authenticated"
STAFF = "staff"


def exponential(*, base: float = 2.0, factor: float = 2.0, cap: float = 3600.0, jitter: float = 0.25) -> Backoff:
    """Delay before attempt n+1: base * factor**(n-1), capped, +/- jitter so retries do not stampede."""

    def delay(attempt: int) -> float:
        raw = min(cap, base * factor ** max(0, attempt - 1))
        return raw * (1 + random.uniform(-jitter, jitter))

    return delay


@dataclass(frozen=True)
class HandlerSpec:
    name: str
    func: Callable[..., Any]
    queue: str | None
    max_attempts: int | None
    timeout: int | None
    priority: int
    backoff: Backoff
    validate: Callable[[dict], dict] | None
    concurrency_limit: int | None
    concurrency_key: Callable[[dict], str] | None
    rate_limit: tuple[int, float] | None
    deadline: float | None
    description: str
    enqueue_permission: str | Callable[[Any], bool] = AUTHENTICATED
    unique_by_args: bool = False

    def args_unique_key(self, args: dict) -> str | None:
        """For a `unique_by_args` handler, the unique key its jobs get when the caller gives none:
        the handler's name and the sha256 of its arguments in canonical JSON (fits the 200-character column)."""
        if not self.unique_by_args:
            return None
        canonical = json.dumps(args, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return f"{self.name[:135]}:{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"

    def clean_args(self, args: dict) -> dict:
        """The handler's own validator when it has one, else the function's keyword signature and
        its type annotations (a `float` parameter refuses "abc"). Text holding NUL or lone
        surrogates, which no database column takes, is refused either way."""
        if not isinstance(args, dict):
            raise InvalidJob({"args": ["Must be a JSON object."]})
        _check_text(args)
        if self.validate is not None:
            return self.validate(args)
        try:
            _signature(self.func).bind(None, **args)
        except TypeError as exc:
            raise InvalidJob({"args": [str(exc)]}) from None
        hints = _hints(self.func)
        errors = [f"{name}: {problem}" for name, value in args.items() if (problem := _type_problem(value, hints.get(name)))]
        if errors:
            raise InvalidJob({"args": errors})
        return args


@functools.lru_cache(maxsize=1024)
def _signature(func: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(func)


@functools.lru_cache(maxsize=1024)
def _hints(func: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func)
    except Exception:  # an annotation that cannot be resolved checks nothing
        return {}


_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false", list: "a list", dict: "an object"}


def _type_problem(value: Any, hint: Any) -> str | None:
    """Why `value` (parsed JSON) does not fit the annotation `hint`, or None when it does. Types
    this does not know (Any, classes of one's own) accept anything: `validate=` checks those."""
    if hint is None or hint is Any:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if any(_type_problem(value, option) is None for option in options):
            return None
        return f"Must be {' or '.join(_describe(option) for option in options)}, not {_shown(value)}."
    if hint is type(None):
        return None if value is None else f"Must be null, not {_shown(value)}."
    base = origin or hint
    if base not in _NAMES:
        return None
    if not _fits(value, base):
        return f"Must be {_NAMES[base]}, not {_shown(value)}."
    inner = typing.get_args(hint)
    if base is list and inner:
        return next((f"item {i}: {p}" for i, item in enumerate(value) if (p := _type_problem(item, inner[0]))), None)
    if base is dict and len(inner) == 2:
        return next((f"{k}: {p}" for k, item in value.items() if (p := _type_problem(item, inner[1]))), None)
    return None


def _fits(value: Any, base: type) -> bool:
    if base is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if base is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, base)


def _describe(hint: Any) -> str:
    return "null" if hint is type(None) else _NAMES.get(typing.get_origin(hint) or hint, str(hint))


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_text(value: Any, path: str = "args") -> None:
    """Refuse NUL characters and lone surrogates anywhere in `value`, keys included."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise InvalidJob({"args": [f"{where}: NUL characters are not allowed."]})
            if any("\ud800" <= char <= "\udfff" for char in item):
                raise InvalidJob({"args": [f"{where}: Lone surrogate characters are not allowed."]})
        elif isinstance(item, dict):
            for key, child in item.items():
                stack.append((key, where))
                stack.append((child, f"{where}.{key}" if isinstance(key, str) else where))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))


_registry: dict[str, HandlerSpec] = {}


def handler(name: str, **options):
    """Register `func(ctx, **args)` as the handler `name`, with the options of `register_handler`."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        register_handler(name, func, **options)
        return func

    return register


def register_handler(
    name: str,
    func: Callable[..., Any],
    *,
    queue: str | None = None,
    max_attempts: int | None = None,
    timeout: int | None = None,
    priority: int = 0,
    backoff: Backoff | None = None,
    validate: Callable[[dict], dict] | None = None,
    concurrency_limit: int | None = None,
    concurrency_key: Callable[[dict], str] | None = None,
    rate_limit: tuple[int, float] | None = None,
    deadline: float | None = None,
    enqueue_permission: str | Callable[[Any], bool] = AUTHENTICATED,
    description: str | None = None,
    unique_by_args: bool = False,
) -> HandlerSpec:
    """Register `func(ctx, **args)` as the handler `name`; raises ValueError when another function holds
    the name. Options left None take the settings' defaults.

    `validate(args) -> args` raises InvalidJob; `concurrency_key(args)` with `concurrency_limit`
    caps how many jobs with the same key run at once (for instance one import per catalogue);
    `rate_limit=(n, seconds)` allows at most n starts per window over all clusters; `deadline`
    (seconds after a job is due) expires a job that could not start in time.
    `enqueue_permission` says who may enqueue it (AUTHENTICATED, STAFF, "app.codename" or a
    function of the user); the system (commands, handlers) always may. `unique_by_args=True` gives
    each job without an explicit `unique_key` one derived from its arguments, so an identical job
    cannot be enqueued while one is active (DuplicateJob, 409)."""
    if rate_limit is not None and not (rate_limit[0] >= 1 and rate_limit[1] > 0):
        raise ValueError(f"handler {name!r}: rate_limit is (starts >= 1, seconds > 0)")
    existing = _registry.get(name)
    if existing and existing.func.__qualname__ != func.__qualname__:
        raise ValueError(f"handler {name!r} is registered twice")
    spec = _registry[name] = HandlerSpec(
        name=name,
        func=func,
        queue=queue,
        max_attempts=max_attempts,
        timeout=timeout,
        priority=priority,
        backoff=backoff or exponential(),
        validate=validate,
        concurrency_limit=concurrency_limit,
        concurrency_key=concurrency_key,
        rate_limit=rate_limit,
        deadline=deadline,
        description=description if description is not None else (inspect.getdoc(func) or "").split("\n")[0],
        enqueue_permission=enqueue_permission,
        unique_by_args=unique_by_args,
    )
    return spec


Resolver = Callable[[str], None]
_resolvers: list[Resolver] = []


def add_resolver(resolve: Resolver) -> None:
    """`resolve(name)` is asked to register an unknown handler `name` on first use (django.tasks tasks
    are found by import path this way in a worker that has not imported them)."""
    if resolve not in _resolvers:
        _resolvers.append(resolve)


def get_handler(name: str) -> HandlerSpec:
    spec = _registry.get(name)
    if spec is None:
        for resolve in _resolvers:
            resolve(name)
        spec = _registry.get(name)
    if spec is None:
        raise UnknownHandler(f"Unknown handler {name!r}.")
    return spec


def all_handlers() -> list[HandlerSpec]:
    return sorted(_registry.values(), key=lambda spec: spec.name)
