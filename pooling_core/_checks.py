"""Checks and small helpers the ``pooling_core`` modules share.

Each check raises ``ValueError`` naming the argument, the value it got and the rule
broken, as every public function of the core promises; the modules keep their own
wording where a message says more than the rule (the limit, what to do instead).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

_NOT_SEQUENCES = (str, bytes, Mapping, set, frozenset)


def is_int(value) -> bool:
    """``value`` is a Python or NumPy integer, and not a bool (``True`` is an ``int``).

    >>> is_int(3), is_int(np.int64(3)), is_int(True), is_int(3.0)
    (True, True, False, False)
    """
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_ndim(ndim) -> int:
    """The number of pooled axes of ``pool_nd``-style functions: 1, 2 or 3."""
    if not is_int(ndim) or ndim not in (1, 2, 3):
        raise ValueError(f"ndim={ndim!r} must be 1, 2 or 3 (the number of pooled axes)")
    return int(ndim)


def check_input(x, ndim: int, fn: str, name: str = "x") -> np.ndarray:
    """``x`` as an array of real numbers with at least ``ndim`` axes to pool (1, 2, 3);
    ``fn`` names the function in the message."""
    ndim = check_ndim(ndim)
    x = as_real_array(x, name)
    if x.ndim < ndim:
        raise ValueError(
            f"{fn} pools the last {ndim} axes but {name} has shape {x.shape} ({x.ndim}-D); "
            f"give an array shaped (..., {', '.join('HWD'[:ndim] if ndim < 3 else 'DHW')})"
        )
    return x


def float_dtype(x: np.ndarray) -> np.dtype:
    """The dtype of a computed (not picked) result: ``x``'s own if floating, else float64."""
    return x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)


def check_flag(value, name: str) -> bool:
    """A yes/no argument: ``True``/``False`` (NumPy's too, and the ints 0 and 1).

    >>> check_flag(np.True_, "ceil_mode")
    True
    """
    if isinstance(value, (bool, np.bool_)) or (is_int(value) and value in (0, 1)):
        return bool(value)
    raise ValueError(f"{name}={value!r} must be True or False")


def check_real(value, name: str, *, allow_none: bool = False):
    """A real scalar (Python or NumPy int or float, not a bool) that fits a float64."""
    if value is None and allow_none:
        return None
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name}={value!r} must be a real number")
    try:
        float(value)
    except OverflowError:
        raise ValueError(f"{name}={value!r} is too large for a float64") from None
    return value


def as_real_array(x, name: str) -> np.ndarray:
    """``np.asarray(x)`` of real numbers (bools become uint8), or ValueError naming ``name``."""
    try:
        x = np.asarray(x)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} is not an array of numbers ({err})") from None
    if x.dtype == bool:
        x = x.astype(np.uint8)
    if not (np.issubdtype(x.dtype, np.number)) or np.iscomplexobj(x):
        raise ValueError(f"{name} has dtype {x.dtype}; pooling needs real numbers")
    return x


def check_rng(rng) -> np.random.Generator:
    """``rng`` as a Generator: None, a seed (non-negative int) or a Generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError) as err:
        raise ValueError(f"rng={rng!r} must be None, a non-negative int or a "
                         f"numpy.random.Generator ({err})") from None


def check_shape(value, name: str, max_axes: int) -> tuple[int, ...]:
    """A non-empty tuple of at most ``max_axes`` ints (the sizes are checked by the caller)."""
    try:
        if isinstance(value, _NOT_SEQUENCES):
            raise TypeError
        shape = tuple(value)
    except TypeError:
        raise ValueError(f"{name}={value!r} must be a tuple of ints, one size per axis") from None
    if not shape or not all(is_int(n) for n in shape):
        raise ValueError(f"{name}={value!r} must be a non-empty tuple of ints, one size per axis")
    if len(shape) > max_axes:
        raise ValueError(f"{name} has {len(shape)} axes; windows are placed on at most "
                         f"{max_axes}")
    return tuple(int(n) for n in shape)


def check_length(n) -> None:
    """``n`` of the one-axis helpers: a positive int."""
    if not is_int(n) or n < 1:
        raise ValueError(f"n={n!r} must be a positive int (the input length)")


def known_options(options: dict, fn: str, known) -> dict:
    """``options`` (a function's ``**options``) when every keyword is in ``known``."""
    unknown = [k for k in options if k not in known]
    if unknown:
        raise ValueError(f"{fn} got unknown option {unknown[0]}={options[unknown[0]]!r}; "
                         f"it takes {', '.join(known)}")
    return options


def outer(arrays, op=np.multiply) -> np.ndarray:
    """Combine one array per axis into one array over all axes, by broadcasting ``op``.

    Array ``i`` of shape ``(a_i, b_i, ...)`` spreads its first dimension over output
    axis ``i``, its second over axis ``nd + i``, and so on: per-axis vectors
    ``(out_i,)`` give ``(*out,)``; per-axis tables ``(out_i, k_i)`` give
    ``(*out, *k)``.

    >>> outer([np.array([1, 2]), np.array([10, 20, 30])]).tolist()
    [[10, 20, 30], [20, 40, 60]]
    >>> outer([np.ones((2, 3)), np.ones((4, 5))]).shape
    (2, 4, 3, 5)
    """
    nd = len(arrays)
    result = None
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        shape = [1] * (nd * a.ndim)
        for j, size in enumerate(a.shape):
            shape[j * nd + i] = size
        a = a.reshape(shape)
        result = a if result is None else op(result, a)
    return result
