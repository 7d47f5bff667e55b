"""How values that are not plain JSON become JSON before the guard sees them.

The native converter handles dict, list, tuple, str, int, float, bool and None itself and
calls :func:`jsonable` for anything else.
"""

import dataclasses
import datetime
import decimal
import enum
import uuid
from typing import Any


def jsonable(value: Any) -> Any:
    """A JSON-shaped stand-in for ``value``; raises ``TypeError`` when there is none."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return model_dump(mode="json")
    raise TypeError(f"cannot convert {type(value).__name__} to JSON for the guard")
