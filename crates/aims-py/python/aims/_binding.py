"""Binding a decorated function's arguments, by parameter name, into the call's JSON args.

Positional and keyword arguments become one dict keyed by parameter name, with defaults
filled in; a leading ``self`` or ``cls`` is left out; ``**kwargs`` members join the top level
(so a policy sees ``args.amount`` however the caller passed it) and ``*args`` stays a list
under its own name. The common case (no ``*args``/``**kwargs``, no surplus arguments) takes a
fast path of plain dict operations; anything else goes through ``inspect.Signature.bind``,
which also raises the ``TypeError`` the function itself would raise, before any decision.
"""

import inspect
from typing import Any, Callable, Dict, Optional, Tuple

_P = inspect.Parameter
_RECEIVERS = ("self", "cls")


class Binder:
    """Binds calls of one function; built once per decorated function."""

    __slots__ = ("signature", "receiver", "positional", "defaults", "names", "count", "simple", "var_keyword")

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.signature = inspect.signature(fn)
        params = list(self.signature.parameters.values())
        first = params[0] if params else None
        self.receiver: Optional[str] = (
            first.name
            if first is not None
            and first.name in _RECEIVERS
            and first.kind in (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD)
            else None
        )
        self.simple = all(p.kind in (_P.POSITIONAL_OR_KEYWORD, _P.KEYWORD_ONLY) for p in params)
        self.positional = tuple(p.name for p in params if p.kind == _P.POSITIONAL_OR_KEYWORD)
        self.defaults = {p.name: p.default for p in params if p.default is not _P.empty}
        self.names = frozenset(p.name for p in params)
        self.count = len(params)
        self.var_keyword = next((p.name for p in params if p.kind == _P.VAR_KEYWORD), None)

    def bind(self, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Dict[str, Any]:
        """The call's arguments by parameter name (receiver left out)."""
        if self.simple and len(args) <= len(self.positional):
            bound = dict(self.defaults)
            bound.update(zip(self.positional, args))
            if kwargs:
                clash = not kwargs.keys() <= self.names or any(
                    name in kwargs for name in self.positional[: len(args)]
                )
                bound.update(kwargs)
            else:
                clash = False
            if not clash and len(bound) == self.count:
                if self.receiver is not None:
                    del bound[self.receiver]
                return bound
        return self._bind_slow(args, kwargs)

    def _bind_slow(self, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Dict[str, Any]:
        bound_args = self.signature.bind(*args, **kwargs)
        bound_args.apply_defaults()
        bound = dict(bound_args.arguments)
        if self.receiver is not None:
            bound.pop(self.receiver, None)
        if self.var_keyword is not None:
            bound.update(bound.pop(self.var_keyword))
        return bound

    def rebind(
        self, args: Tuple[Any, ...], kwargs: Dict[str, Any], masked: Dict[str, Any]
    ) -> Tuple[Tuple[Any, ...], Dict[str, Any]]:
        """``args`` and ``kwargs`` with every argument replaced by its masked form."""
        bound_args = self.signature.bind(*args, **kwargs)
        bound_args.apply_defaults()
        for name in list(bound_args.arguments):
            if name == self.receiver:
                continue
            if name == self.var_keyword:
                extra = bound_args.arguments[name]
                bound_args.arguments[name] = {key: masked.get(key, extra[key]) for key in extra}
            elif name in masked:
                bound_args.arguments[name] = masked[name]
        return bound_args.args, bound_args.kwargs
