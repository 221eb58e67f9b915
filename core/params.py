"""One declarative table of config fields: validation, URL writing and reading.

Every config dataclass in ``core`` declares its fields with :func:`param`, which
stores a :class:`Spec` (kind, allowed range or choices) in the field metadata.
The same table then drives

* :func:`validate` -- check a config once, at the edge, with a message in
  scikit-learn's form ("The 'lr' parameter must be a float in the range
  (0, 10]. Got -1 instead.");
* :func:`to_query` -- write a config as string query parameters;
* :func:`from_query` -- read query parameters back, keeping the nearest valid
  value for anything out of range or malformed and saying what it ignored.

Like TensorFlow Playground's ``state.ts``, but a value that does not parse is
never turned into NaN: it falls back to the default, with a notice.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Spec", "Notice", "check", "param", "specs", "validate", "to_query", "from_query", "clamp"]


@dataclass(frozen=True)
class Spec:
    """What a field may hold.

    kind: "float", "int", "choice" or "bool".
    low, high: the numeric range; ``low_open``/``high_open`` exclude the ends.
    choices: the allowed values of a "choice" field.
    unlisted: for a "choice" field, a test for values allowed besides ``choices`` that a link can
    never carry (an uploaded table's name: valid while this process holds that table);
    ``unlisted_text`` says what they are. Validation admits them; :func:`from_query` never reads
    one and :func:`to_query` never writes one.
    """

    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple = ()
    unlisted: Callable[[Any], bool] | None = None
    unlisted_text: str = ""

    def describe(self) -> str:
        if self.kind == "choice":
            listed = "one of " + ", ".join(repr(c) for c in self.choices)
            return listed + (f", or {self.unlisted_text} (while it is registered)" if self.unlisted else "")
        if self.kind == "bool":
            return "a boolean"
        noun = "an int" if self.kind == "int" else "a float"
        if self.high is None and self.low is not None:  # open-ended: "an int >= 1", "a float > 0"
            return f"{noun} {'>' if self.low_open else '>='} {_fmt(self.low)}"
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        return f"{noun} in the range {left}{_fmt(self.low)}, {_fmt(self.high)}{right}"

    def admits(self, value: Any) -> bool:
        if self.kind == "choice":
            return value in self.choices or (self.unlisted is not None and bool(self.unlisted(value)))
        if self.kind == "bool":
            return isinstance(value, bool)
        if isinstance(value, bool):
            return False
        if self.kind == "int" and not (isinstance(value, int) or _is_integral(value)):
            return False
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        if self.high is not None and (
            value > self.high or (self.high_open and value == self.high)
        ):
            return False
        return True


class Notice(str):
    """One problem found in a link: ``subject`` is the text the link held (untrusted: a caller shows it
    as text, never as markup), ``problem`` what was done about it. As a string: "'subject' problem"."""

    subject: str
    problem: str

    def __new__(cls, subject: str, problem: str) -> Notice:
        self = super().__new__(cls, f"'{subject}' {problem}" if subject else problem)
        self.subject, self.problem = subject, problem
        return self


def _is_integral(value: Any) -> bool:
    return isinstance(value, float) and math.isfinite(value) and value == int(value)


def _fmt(x: float | None) -> str:
    if x is None:
        return "inf"
    if float(x).is_integer():
        return str(int(x))
    return f"{x:g}"


def param(default: Any, kind: str, *, low=None, high=None, low_open=False, high_open=False,
          choices=(), unlisted=None, unlisted_text: str = "", help: str = "") -> Any:
    """A dataclass field with its :class:`Spec` in the metadata."""
    spec = Spec(kind, low, high, low_open, high_open, tuple(choices), unlisted, unlisted_text)
    if not spec.admits(default):
        raise ValueError(f"default {default!r} is not {spec.describe()}")
    return dataclasses.field(default=default, metadata={"spec": spec, "help": help})


def specs(cls_or_obj) -> dict[str, Spec]:
    """Field name -> Spec, for every field declared with :func:`param`."""
    return {
        f.name: f.metadata["spec"]
        for f in dataclasses.fields(cls_or_obj)
        if "spec" in f.metadata
    }


def check(name: str, value: Any, spec: Spec) -> Any:
    """``value`` if ``spec`` admits it; otherwise the one ValueError every check in core raises,
    in scikit-learn's form: "The 'lr' parameter must be a float in the range (0, 10]. Got -1 instead."
    (Configs, layers, optimizers and data sets all check their arguments through here.)"""
    if not spec.admits(value):
        raise ValueError(f"The '{name}' parameter must be {spec.describe()}. Got {value!r} instead.")
    return value


def validate(config) -> None:
    """Raise ``ValueError`` naming the first field whose value is not allowed."""
    for name, spec in specs(config).items():
        check(name, getattr(config, name), spec)


def clamp(spec: Spec, value: float) -> float:
    """The nearest value inside ``spec``'s range (open ends are nudged inward)."""
    lo, hi = spec.low, spec.high
    if lo is not None and value <= lo:
        value = lo if not spec.low_open else _nudge_up(lo, hi)
    if hi is not None and value >= hi:
        value = hi if not spec.high_open else _nudge_down(hi, lo)
    return value


def _nudge_up(lo: float, hi: float | None) -> float:
    step = abs(lo) * 1e-3 if lo else 1e-6
    return lo + step if hi is None else min(lo + step, (lo + hi) / 2)


def _nudge_down(hi: float, lo: float | None) -> float:
    step = abs(hi) * 1e-3 if hi else 1e-6
    return hi - step if lo is None else max(hi - step, (lo + hi) / 2)


def to_query(config) -> dict[str, str]:
    """The config's declared fields as strings, for a URL (a choice outside the listed ones, which a
    link cannot carry, is left out)."""
    out = {}
    for name, spec in specs(config).items():
        value = getattr(config, name)
        if spec.kind == "choice" and value not in spec.choices:
            continue
        if spec.kind == "bool":
            out[name] = "1" if value else "0"
        elif spec.kind == "float":
            out[name] = repr(float(value))
        else:
            out[name] = str(value)
    return out


_MAX_TEXT = 64  # longer values are not even parsed: they are not ours


def parse_value(spec: Spec, text: str) -> tuple[Any, str | None]:
    """Parse one query value. Returns (value or None, a notice or None).

    None as value means "unusable, keep the default"; a notice says why or
    what was changed.
    """
    if text is None:
        return None, None
    text = str(text).strip()
    if len(text) > _MAX_TEXT:
        return None, "too long"
    if spec.kind == "choice":
        for c in spec.choices:
            if text == str(c):
                return c, None
        for c in spec.choices:  # forgive case
            if text.lower() == str(c).lower():
                return c, None
        listed = "not one of " + ", ".join(str(c) for c in spec.choices)
        return None, listed + (f" (a link cannot carry {spec.unlisted_text})" if spec.unlisted_text else "")
    if spec.kind == "bool":
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True, None
        if low in ("0", "false", "no", "off"):
            return False, None
        return None, "not a boolean"
    try:
        number = float(text)
    except ValueError:
        return None, "not a number"
    if not math.isfinite(number):
        return None, "not a finite number"
    if spec.kind == "int":
        rounded = float(round(number))
        note = None if rounded == number else "rounded to a whole number"
        number = rounded
    else:
        note = None
    clamped = clamp(spec, number)
    if clamped != number:
        allowed = f", {_fmt(spec.low)} to {_fmt(spec.high)}" if spec.low is not None and spec.high is not None else ""
        note = f"is outside the allowed range{allowed}; set to {_fmt(clamped)}"
    value = int(clamped) if spec.kind == "int" else float(clamped)
    return value, note


def from_query(cls, query: Mapping[str, Any], *, base=None, ignore_unknown=()) -> tuple[Any, list[Notice]]:
    """Build ``cls`` from query parameters, never raising on bad input.

    Returns ``(config, notices)``. Fields missing from ``query`` keep the value
    of ``base`` (or the class default); malformed values keep it too; numbers
    out of range are clamped to the nearest valid value. Each problem gives one
    short notice. Keys that are no field of ``cls`` are reported as unknown,
    except those in ``ignore_unknown`` (parameters another table owns).
    """
    base = base if base is not None else cls()
    table = specs(cls)
    values: dict[str, Any] = {}
    notices: list[Notice] = []
    for key, raw in query.items():
        if key not in table:
            if key not in ignore_unknown:
                notices.append(Notice(_short(key), "is not a setting here; ignored"))
            continue
        if isinstance(raw, (list, tuple)):
            raw = raw[-1] if raw else ""
        value, note = parse_value(table[key], raw)
        if value is None:
            notices.append(Notice(f"{key}={_short(raw)}", f"is {note}; kept {getattr(base, key)!r}"))
            continue
        if note:
            notices.append(Notice(f"{key}={_short(raw)}", note))
        values[key] = value
    try:
        config = dataclasses.replace(base, **values)
        check = getattr(config, "validate", None)
        check() if callable(check) else validate(config)
    except ValueError as exc:  # a cross-field rule of the config class
        notices.append(Notice("", f"{exc} Kept the previous settings."))
        config = base
    return config, notices


def _short(text: Any, n: int = 24) -> str:
    s = str(text)
    s = "".join(ch if ch.isprintable() else "?" for ch in s)
    return s if len(s) <= n else s[: n - 1] + "…"
