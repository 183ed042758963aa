"""Numbers as people type them: one number, a list, a matrix (no Streamlit).

The matrix playground, the link's ``m`` (:mod:`ui.links`), the typed convolution kernel
and the 1-D signal all read what was typed with these; a ``ValueError`` says where the
bad value is and what is wrong with it.

Whatever is typed, the work is bounded before any number is converted: a text longer
than the largest input a field takes is refused by its length, the values are counted
before one is converted, and a number longer than ``MAX_NUMBER_CHARS`` characters is
refused by its length. The verdict on a text (its numbers, or the message) is cached, so
the reruns that follow while the text stays in its box cost nothing. This matters on a
server shared by a class: Python converts one number at a time holding the interpreter
lock, so one visitor's huge paste would make every other session wait.
"""
from __future__ import annotations

import functools
import re

import numpy as np

MAX_NUMBER_CHARS = 40  # longer than any number typed by hand: -1.2345678901234567e-300 is 24
SEPARATOR_ALLOWANCE = 8  # characters per value for separators and spaces, in a text limit
MAX_SIGNAL_VALUES = 512  # parse_numbers: the most samples the 1-D page draws
MAX_MATRIX_VALUES = 32 * 32  # parse_matrix: the playground's largest grid

# one number: no nested repetition, so a long non-number fails in linear time
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_TOKEN = re.compile(r"[^,;\s]+")


def text_limit(max_values: int) -> int:
    """The longest text that can hold ``max_values`` numbers of the longest accepted kind.

    >>> text_limit(512)
    24576
    """
    return max_values * (MAX_NUMBER_CHARS + SEPARATOR_ALLOWANCE)


def _shown(token: str) -> str:
    """``token`` quoted for a message: whole up to ``MAX_NUMBER_CHARS``, else its start."""
    if len(token) <= MAX_NUMBER_CHARS:
        return repr(token)
    return f"{token[:12]!r}… ({len(token):,} characters)"


def parse_number(token: str, where: str) -> float:
    """One typed number (``1/9`` allowed); ValueError says ``where`` it is and what is wrong.

    >>> parse_number("1/4", "Value 1")
    0.25
    >>> parse_number("7" * 50, "Value 2")
    Traceback (most recent call last):
    ...
    ValueError: Value 2: '777777777777'… (50 characters) is longer than any number taken here (at most 40 characters); shorten it (a very large or small number can be written as 1.5e30)
    """
    if len(token) > MAX_NUMBER_CHARS:
        raise ValueError(f"{where}: {_shown(token)} is longer than any number taken here (at "
                         f"most {MAX_NUMBER_CHARS} characters); shorten it (a very large or "
                         f"small number can be written as 1.5e30)")
    parts = token.split("/")
    if len(parts) > 2 or not all(_NUMBER.fullmatch(p) for p in parts):
        raise ValueError(f"{where}: {token!r} is not a number")
    if len(parts) == 2 and float(parts[1]) == 0:
        raise ValueError(f"{where}: {token!r} divides by zero")
    value = float(parts[0]) / float(parts[1]) if len(parts) == 2 else float(parts[0])
    if not np.isfinite(value):
        raise ValueError(f"{where}: {token!r} is not a finite number")
    return value


def _check_size(text: str, max_values: int, what: str, instead: str) -> None:
    """Refuse ``text`` by its length, then by its count of values, before converting any."""
    limit = text_limit(max_values)
    if len(text) > limit:
        raise ValueError(f"{what} is {len(text):,} characters long; {max_values:,} numbers (the "
                         f"most taken here) fit in {limit:,}. {instead}")
    count = len(_TOKEN.findall(text))
    if count > max_values:
        raise ValueError(f"{what} has {count:,} values; at most {max_values:,} are taken here. "
                         f"{instead}")


def _verdict(fn):
    """Cache ``fn``'s result or its ValueError by its arguments (a text and plain values).

    The cached array is read-only and each call returns a copy of it.
    """
    @functools.lru_cache(maxsize=64)
    def cached(*args, **kwargs):
        try:
            out = fn(*args, **kwargs)
        except ValueError as exc:
            return None, str(exc)
        out.flags.writeable = False
        return out, None

    @functools.wraps(fn)
    def call(*args, **kwargs):
        out, message = cached(*args, **kwargs)
        if message is not None:
            raise ValueError(message)
        return out.copy()

    call.cache_info, call.cache_clear = cached.cache_info, cached.cache_clear
    return call


@_verdict
def parse_matrix(text: str, what: str = "The matrix",
                 max_values: int = MAX_MATRIX_VALUES) -> np.ndarray:
    """Parse ``"1,0,-1; 2,0,-2"``: rows by ``;`` or new lines, values by ``,`` or spaces.

    At most ``max_values`` values (the text's length and its count of values are checked
    before any is converted). The verdict is cached.

    >>> parse_matrix("1, 2; 3 1/2").tolist()
    [[1.0, 2.0], [3.0, 0.5]]
    """
    _check_size(text, max_values, what, "Type a smaller matrix.")
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


@_verdict
def parse_numbers(text: str, max_values: int = MAX_SIGNAL_VALUES) -> np.ndarray:
    """Numbers separated by commas, semicolons, spaces or new lines; ValueError names the bad one.

    At most ``max_values`` (the text's length and its count of values are checked before
    any is converted). The verdict is cached.

    >>> parse_numbers("1, 3; 2 5").tolist()
    [1.0, 3.0, 2.0, 5.0]
    >>> parse_numbers(", ".join(["1"] * 600))
    Traceback (most recent call last):
    ...
    ValueError: The text has 600 values; at most 512 are taken here. Paste at most 512 numbers.
    """
    _check_size(text, max_values, "The text", f"Paste at most {max_values:,} numbers.")
    tokens = _TOKEN.findall(text)
    if not tokens:
        raise ValueError("No numbers: paste a list such as 1, 3, 2, 5, 4")
    return np.array([parse_number(t, f"Value {i}") for i, t in enumerate(tokens, 1)])


def clean_grid_edits(state, columns) -> list[str]:
    """Take out of a ``st.data_editor``'s edit state every value that is not a number.

    ``state`` is the editor's state as the browser sent it (``{"edited_rows": {row:
    {column: value}}, "added_rows": [...], ...}``; anything else is left alone), and
    ``columns`` the grid's column names. Numbers stay; a typed number (``"3"``,
    ``"1/2"``) becomes its value; anything else, and a cell of an unknown column, is
    removed, so the editor keeps the grid's value there and never has to parse it (it
    would log a traceback on the server for each rerun). Changes ``state`` in place and
    returns one message per removed value.

    >>> state = {"edited_rows": {"1": {"0": "abc", "1": "1/2", "2": 7}}, "added_rows": []}
    >>> clean_grid_edits(state, ["0", "1", "2"])
    ["Cell [1, 0]: 'abc' is not a number"]
    >>> state["edited_rows"]
    {'1': {'1': 0.5, '2': 7}}
    """
    if not isinstance(state, dict):
        return []
    names, messages = set(columns), []

    def clean(cells: dict, row) -> None:
        for col in list(cells):
            value = cells[col]
            if col not in names:
                del cells[col]
                continue
            if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
                continue
            try:
                cells[col] = parse_number(str(value), f"Cell [{row}, {col}]")
            except ValueError as exc:
                messages.append(str(exc))
                del cells[col]

    for row, cells in (state.get("edited_rows") or {}).items():
        if isinstance(cells, dict):
            clean(cells, row)
    for i, cells in enumerate(state.get("added_rows") or []):
        if isinstance(cells, dict):
            clean(cells, f"new row {i + 1}")
    return messages
