"""Numbers as people type them: one number, a list, a matrix (no Streamlit).

The matrix playground, the link's ``m`` (:mod:`ui.links`), the typed convolution kernel
and the 1-D signal all read what was typed with these; a ``ValueError`` says where the
bad value is and what is wrong with it.
"""
from __future__ import annotations

import re

import numpy as np


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def parse_number(token: str, where: str) -> float:
    """One typed number (``1/9`` allowed); ValueError says ``where`` it is and what is wrong."""
    parts = token.split("/")
    if len(parts) > 2 or not all(_NUMBER.match(p) for p in parts):
        raise ValueError(f"{where}: {token!r} is not a number")
    if len(parts) == 2 and float(parts[1]) == 0:
        raise ValueError(f"{where}: {token!r} divides by zero")
    value = float(parts[0]) / float(parts[1]) if len(parts) == 2 else float(parts[0])
    if not np.isfinite(value):
        raise ValueError(f"{where}: {token!r} is not a finite number")
    return value


def parse_matrix(text: str, what: str = "The matrix") -> np.ndarray:
    """Parse ``"1,0,-1; 2,0,-2"``: rows by ``;`` or new lines, values by ``,`` or spaces.

    >>> parse_matrix("1, 2; 3 1/2").tolist()
    [[1.0, 2.0], [3.0, 0.5]]
    """
    rows = [r for r in re.split(r"[;\n]", text) if r.strip()]
    if not rows:
        raise ValueError(f"{what} is empty: type rows of numbers such as 1,0,-1; 2,0,-2; 1,0,-1")
    values = [[parse_number(t, f"Row {i}, value {j}")
               for j, t in enumerate((t for t in re.split(r"[,\s]+", row.strip()) if t), 1)]
              for i, row in enumerate(rows, 1)]
    if len({len(r) for r in values}) != 1:
        raise ValueError(f"The rows have different lengths ({', '.join(str(len(r)) for r in values)}); "
                         f"every row needs the same number of values")
    return np.array(values)


def parse_numbers(text: str) -> np.ndarray:
    """Numbers separated by commas, semicolons, spaces or new lines; ValueError names the bad one."""
    tokens = [t for t in re.split(r"[,;\s]+", text.strip()) if t]
    if not tokens:
        raise ValueError("No numbers: paste a list such as 1, 3, 2, 5, 4")
    values = np.array([parse_number(t, f"Value {i}") for i, t in enumerate(tokens, 1)])
    if values.size > 512:
        raise ValueError(f"{values.size} numbers is too many to draw; paste at most 512")
    return values
