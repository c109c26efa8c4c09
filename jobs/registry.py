"""Handlers: plain functions registered under a stable dotted name with their default run options."""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobs.exceptions import InvalidJob, UnknownHandler

Backoff = Callable[[int], float]


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
    description: str

    def clean_args(self, args: dict) -> dict:
        """The handler's own validator when it has one, else the function's keyword signature."""
        if not isinstance(args, dict):
            raise InvalidJob({"args": ["Must be a JSON object."]})
        if self.validate is not None:
            return self.validate(args)
        try:
            inspect.signature(self.func).bind(None, **args)
        except TypeError as exc:
            raise InvalidJob({"args": [str(exc)]}) from None
        return args


_registry: dict[str, HandlerSpec] = {}


def handler(
    name: str,
    *,
    queue: str | None = None,
    max_attempts: int | None = None,
    timeout: int | None = None,
    priority: int = 0,
    backoff: Backoff | None = None,
    validate: Callable[[dict], dict] | None = None,
    concurrency_limit: int | None = None,
    concurrency_key: Callable[[dict], str] | None = None,
):
    """Register `func(ctx, **args)` as the handler `name`. Options left None take the settings' defaults.

    `validate(args) -> args` raises InvalidJob; `concurrency_key(args)` with `concurrency_limit`
    caps how many jobs with the same key run at once (for instance one import per catalogue)."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        register_handler(
            name,
            func,
            queue=queue,
            max_attempts=max_attempts,
            timeout=timeout,
            priority=priority,
            backoff=backoff,
            validate=validate,
            concurrency_limit=concurrency_limit,
            concurrency_key=concurrency_key,
        )
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
    description: str | None = None,
) -> HandlerSpec:
    """Register `func(ctx, **args)` as the handler `name` (what `@handler` does); raises ValueError when
    another function holds the name."""
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
        description=description if description is not None else (inspect.getdoc(func) or "").split("\n")[0],
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
