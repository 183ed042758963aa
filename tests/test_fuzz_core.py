"""Parameter fuzzing of every public function of ``pooling_core`` (issue 8).

The contract: a call either returns a correct result, or raises ``ValueError``
(or a subclass) whose message is not empty and names the offending parameter.
Any other exception, a hang or runaway memory is a bug.

* ``test_every_function_*``: each public function with one to three of its
  arguments swapped for hostile values (negative, zero, 10**12, floats, NaN,
  bools, None, strings, bytes, dicts, nested tuples of the wrong length, NumPy
  scalars, empty and 0-d arrays, object/str/complex/datetime arrays).
* ``test_pool_*``, ``test_backward_*``, ...: well-typed random settings on small
  inputs of every dtype (int8/int16/uint8/int64/float16/float32/float64/bool, NaN
  and inf included) in any memory layout, checked against the straightforward
  references of ``helpers.py``: pad the input explicitly, cut every window with
  ``sliding_window_view``, reduce it. The core must raise exactly when the reference
  says the settings are invalid. The fast path's bands get the same examples cut
  into many tiny bands, with and without threads (``test_fast_path_bands_*``).
* ``test_limits_*``: settings past the work limits fail fast (a few thousand
  function calls, no Python loop over cells) with a bounded memory peak, and a
  40-megapixel RGB image with a 15×15 kernel stays within them.

Hypothesis runs derandomized and without a database, so CI sees the same
examples every time; example counts keep the file well under a minute
(``FUZZ_SCALE`` and ``FUZZ_RANDOM=1`` run a longer, random hunt by hand).
"""
from __future__ import annotations

import os
import re
import tracemalloc
from dataclasses import replace
from datetime import timedelta
from math import prod
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import pooling_core as pc
import pooling_core.separable as separable
from helpers import (axis_coords, calls_made, flat_taps, outer, per_axis, reference_axes,
                     reference_pool, tolerance, windows)
from pooling_core.conventions import FRAMEWORKS, Settings, compare_frameworks, framework_args


#: For a longer hunt by hand: ``FUZZ_SCALE=20 FUZZ_RANDOM=1 pytest tests/test_fuzz_core.py``.
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"


def fuzz(examples: int):
    """A reproducible, bounded Hypothesis profile (no database, fixed examples)."""
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=timedelta(seconds=5),
                    derandomize=not RANDOM,
                    database=None, print_blob=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


GEOMETRY = ("kernel_size", "stride", "padding", "dilation")
SHAPES = ("x", "input", "spatial_shape", "input_shape", "n", "shape", "values", "indices",
          "output_shape")
BOOL_OPTIONS = ("ceil_mode", "count_include_pad", "return_indices", "ceil_clip",
                "check_half_kernel", "training", "fallback")


def contract(fn, *args, names=(), **kwargs):
    """Call ``fn``. Returns ``(True, result)``, or ``(False, message)`` for a ValueError whose
    message names one of ``names``; any other exception fails the test."""
    try:
        with np.errstate(all="ignore"):
            return True, fn(*args, **kwargs)
    except ValueError as err:
        message = str(err)
        assert message.strip(), f"{fn.__name__} raised a ValueError without a message"
        assert not names or any(re.search(rf"(?<![\w.]){re.escape(name)}"
                                          + (r"(?!\w)" if name[-1:].isalnum() else ""), message)
                                for name in names), (
            f"{getattr(fn, '__name__', fn)}: {message!r} names none of {names}")
        return False, message


def accepted_names(changed):
    """The names a message may use for the arguments in ``changed``."""
    names = set(changed)
    if names & set(GEOMETRY):
        names |= set(GEOMETRY)
    if names & set(SHAPES):
        names |= set(SHAPES) | set(GEOMETRY)  # a too-small input is named with the kernel
    if "ndim" in names:  # another number of axes: the per-axis arguments no longer fit
        names |= set(GEOMETRY) | {"x", "output_size", "output_shape", "values", "indices",
                                  "grad_output"}
    if "settings" in names:
        names |= {"shape", "kernel"}
    return tuple(names)


# ----------------------------------------------------------------------------- hostile values

_HOSTILE_ATOMS = st.one_of(
    st.integers(-3, 6),
    st.sampled_from([0, -1, 10**12, -10**12, 2**63, 2**64 + 1, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([float("nan"), float("inf"), 2.0, 0.5]),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.sampled_from(["same", "valid", "SAME", "full", "", "2", "same_lower", "max", "avg"]),
    st.binary(max_size=2),
    st.complex_numbers(max_magnitude=4, allow_nan=False),
    st.builds(lambda v, t: t(v), st.integers(0, 5),
              st.sampled_from([np.int8, np.uint8, np.int64, np.uint64, np.float32])),
    st.sampled_from([np.True_, np.int64(10**12), np.float64("nan"), np.array(2), np.array([]),
                     np.array([2, 2]), np.array([[1, 1], [1, 1]]), np.array(["a"]),
                     np.array([2.0, 2.0]), {}, {1: 2}, {"kernel_size": 2}, set(), frozenset({2}),
                     [], (), object(), Ellipsis, slice(2), range(2)]),
)
HOSTILE = st.recursive(
    _HOSTILE_ATOMS,
    lambda inner: st.one_of(st.lists(inner, max_size=4).map(tuple), st.lists(inner, max_size=4)),
    max_leaves=6,
)

#: Odd but often valid spellings (NumPy ints, lists, length-1 tuples, ...), so that the
#: functions also return with strange types and the result shape is checked.
VALIDISH = st.one_of(
    st.integers(0, 3), st.builds(np.int64, st.integers(1, 3)),
    st.builds(np.uint8, st.integers(1, 3)),
    st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple),
    st.lists(st.integers(0, 2), min_size=1, max_size=3),
    st.builds(np.array, st.lists(st.integers(1, 3), min_size=1, max_size=3)),
    st.booleans(), st.none(), st.sampled_from(["same", "valid", "SAME"]),
)

HOSTILE_ARRAYS = st.sampled_from([
    None, "abc", 3, 2.5, [[1, 2], [3]], [[1, 2], [3, 4]], np.array(5.0), np.zeros((0, 3)),
    np.zeros((3, 0)), np.zeros((0, 4, 4)), np.zeros((2, 0, 4, 4)),
    np.array([[1, None]], dtype=object), np.array([["a", "b"], ["c", "d"]]),
    np.ones((4, 4), complex), np.array([[1, 2]], "datetime64[s]"),
    np.zeros((4, 4), bool), np.full((4, 4), np.nan), np.full((4, 4), np.inf), np.zeros((1, 1)),
    np.arange(64.0).reshape(4, 4, 4), np.arange(16, dtype=np.int8).reshape(4, 4),
    np.arange(16, dtype=np.float16).reshape(4, 4), np.zeros((1, 1, 1, 1, 4, 4)),
    np.array([[np.iinfo(np.int64).min, np.iinfo(np.int64).max]] * 2),
])


# ----------------------------------------------------------------------------- every function

X2 = np.arange(36.0).reshape(1, 6, 6)
_OUT2, _IDX2 = pc.pool2d(X2, 2, return_indices=True)
SETTINGS = Settings(shape=6, kernel=2)

#: Each public function with arguments that work, as keyword arguments.
BASELINES = {
    "pool_nd": (pc.pool_nd, dict(
        x=X2, ndim=2, kernel_size=2, stride=None, padding=0, dilation=1, mode="max",
        ceil_mode=False, count_include_pad=True, divisor_override=None, p=2.0,
        return_indices=False, rng=None, pad_value=None, ceil_clip=True, check_half_kernel=True,
        training=True)),
    "pool1d": (pc.pool1d, dict(x=np.arange(8.0), kernel_size=2, stride=1, padding=1, dilation=1,
                               mode="avg", ceil_mode=False, count_include_pad=True, p=2.0,
                               return_indices=False, rng=0, pad_value=None, ceil_clip=True,
                               check_half_kernel=True, training=True)),
    "pool2d": (pc.pool2d, dict(x=X2, kernel_size=3, stride=2, padding=1, dilation=1, mode="max",
                               ceil_mode=True, count_include_pad=True, divisor_override=None,
                               p=2.0, return_indices=True, rng=1, pad_value=None, ceil_clip=True,
                               check_half_kernel=True, training=True)),
    "pool3d": (pc.pool3d, dict(x=np.arange(64.0).reshape(4, 4, 4), kernel_size=2, stride=None,
                               padding=0, dilation=1, mode="stochastic", ceil_mode=False,
                               p=2.0, return_indices=False, rng=3, training=True)),
    "pool_nd_backward": (pc.pool_nd_backward, dict(
        grad_output=np.ones((1, 3, 3)), x=X2, ndim=2, kernel_size=2, stride=None, padding=0,
        dilation=1, mode="avg", ceil_mode=False, count_include_pad=True, divisor_override=None,
        p=2.0, rng=None, pad_value=None, ceil_clip=True, check_half_kernel=True, training=True)),
    "pool2d_backward": (pc.pool2d_backward, dict(
        grad_output=np.ones((1, 3, 3)), x=X2, kernel_size=2, stride=2, padding=0, dilation=1,
        mode="max", ceil_mode=False, count_include_pad=True, divisor_override=None, p=2.0,
        rng=None)),
    "unpool_nd": (pc.unpool_nd, dict(values=_OUT2, indices=_IDX2, output_shape=X2.shape, ndim=2)),
    "unpool2d": (pc.unpool2d, dict(values=_OUT2, indices=_IDX2, output_shape=(6, 6))),
    "adaptive_bins": (pc.adaptive_bins, dict(n=5, out=3)),
    "adaptive_pool_nd": (pc.adaptive_pool_nd, dict(x=X2, ndim=2, output_size=(2, 4), mode="max",
                                                   return_indices=True)),
    "adaptive_pool2d": (pc.adaptive_pool2d, dict(x=X2, output_size=4, mode="avg",
                                                 return_indices=False)),
    "global_pool2d": (pc.global_pool2d, dict(x=X2, mode="max")),
    "output_size": (pc.output_size, dict(n=7, kernel_size=3, stride=2, padding=1, dilation=1,
                                         ceil_mode=True, ceil_clip=True)),
    "explain_output_size": (pc.explain_output_size, dict(
        n=7, kernel_size=3, stride=2, padding=(1, 0), dilation=1, ceil_mode=False,
        ceil_clip=True, check_half_kernel=True)),
    "explain_axes": (pc.explain_axes, dict(spatial_shape=(6, 5), kernel_size=2, stride=1,
                                           padding="same", dilation=1, ceil_mode=False,
                                           ceil_clip=True, check_half_kernel=True)),
    "window_cells": (pc.window_cells, dict(input_shape=(6, 6), kernel_size=3, stride=2,
                                           padding=1, dilation=1, ceil_mode=True, ceil_clip=True,
                                           check_half_kernel=True)),
    "coverage": (pc.coverage, dict(input_shape=(6, 6), kernel_size=2, stride=1,
                                   padding=((1, 0), (0, 1)), dilation=2, ceil_mode=False,
                                   ceil_clip=True, check_half_kernel=True)),
    "plan_axes": (pc.plan_axes, dict(spatial_shape=(6, 6), kernel_size=2, stride=None, padding=0,
                                     dilation=1, ceil_mode=False, ceil_clip=True,
                                     check_half_kernel=True, planes=3, work="scan")),
    "window_divisors": (pc.window_divisors, dict(plans=pc.plan_axes((6, 5), 3, 2, 1),
                                                 count_include_pad=False, divisor_override=None)),
    "normalize_tuple": (pc.normalize_tuple, dict(value=(2, 3), ndim=2, name="stride", minimum=1)),
    "geometry_kwargs": (pc.geometry_kwargs, dict(pool_kwargs={"kernel_size": 2, "mode": "avg"})),
    "Settings": (Settings, dict(shape=6, kernel=2, stride=None, padding=0, dilation=1,
                                mode="max", ceil_mode=False, count_include_pad=True)),
    "framework_args": (framework_args, dict(settings=SETTINGS, framework="onnx", fallback=True)),
    "compare_frameworks": (compare_frameworks, dict(x=X2[0], settings=SETTINGS, seed=0)),
}

#: Valid but unusual values worth mixing in per argument.
SPECIAL = {
    "mode": st.sampled_from(pc.MODES + ("mean", "MAX", "")),
    "framework": st.sampled_from(tuple(FRAMEWORKS) + ("jax", "PyTorch")),
    "work": st.sampled_from((None, "scan", "median", "draw", "fast")),
    "settings": st.sampled_from([SETTINGS, Settings(shape=(6, 6), kernel=3, stride=1,
                                                    padding="same_lower", mode="lp")]),
}


def test_baselines_cover_every_public_function():
    from test_variants_fuzz import VARIANT_BASELINES  # the variants' (fuzzed there)
    baselines = {**BASELINES, **VARIANT_BASELINES}
    public = {name for name in pc.__all__ if callable(getattr(pc, name))
              and not isinstance(getattr(pc, name), type)}
    public |= {"Settings", "framework_args", "compare_frameworks"}
    assert public <= set(baselines), public - set(baselines)
    for name, (fn, kwargs) in baselines.items():  # every baseline call works as given
        assert contract(fn, **kwargs)[0], name


#: Memory one hostile call may take (tracemalloc peak; NumPy reports its arrays to it).
HOSTILE_PEAK_BYTES = 32 << 20


def _hostile_call(data, name, baselines=None):
    fn, base = (BASELINES if baselines is None else baselines)[name]
    keys = data.draw(st.lists(st.sampled_from(sorted(base)), min_size=1, max_size=3, unique=True),
                     label="changed")
    kwargs = dict(base)
    for key in keys:
        options = [HOSTILE, VALIDISH]
        if key in SPECIAL:
            options.append(SPECIAL[key])
        if key in ("x", "values", "indices", "grad_output", "boxes", "samples"):
            options.append(HOSTILE_ARRAYS)
        kwargs[key] = data.draw(st.one_of(*options), label=key)
    names = accepted_names(keys)
    if name == "normalize_tuple":  # its messages name the argument by ``name``
        names += (str(kwargs["name"]),)
    if name.endswith("_backward"):  # other settings, another output: grad_output no longer fits
        names += ("grad_output",)
    tracemalloc.start()
    try:
        ok, result = contract(fn, names=names, **kwargs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    note(f"{name}({kwargs}) -> {'returned' if ok else result}")
    assert peak < HOSTILE_PEAK_BYTES, (name, peak)  # the inputs are a few hundred bytes
    event(f"{name}: {'returned' if ok else 'ValueError'}")
    return fn, kwargs, ok, result


@fuzz(2000)
@given(st.data())
def test_every_function_returns_or_names_the_bad_argument(data):
    name = data.draw(st.sampled_from(sorted(BASELINES)), label="function")
    _hostile_call(data, name)


@fuzz(300)
@given(st.data())
def test_pooling_with_hostile_arguments_returns_the_planned_shape(data):
    name = data.draw(st.sampled_from(["pool_nd", "pool1d", "pool2d", "pool3d"]), label="function")
    fn, kwargs, ok, result = _hostile_call(data, name)
    if not ok:
        return
    out = result[0] if kwargs.get("return_indices") else result
    ndim = int(kwargs["ndim"]) if name == "pool_nd" else int(name[4])
    x = np.asarray(kwargs["x"])
    plans = pc.plan_axes(x.shape[x.ndim - ndim:], kwargs["kernel_size"], kwargs.get("stride"),
                         kwargs.get("padding", 0), kwargs.get("dilation", 1),
                         kwargs.get("ceil_mode", False), ceil_clip=kwargs.get("ceil_clip", True),
                         check_half_kernel=kwargs.get("check_half_kernel", True))
    assert out.shape == x.shape[: x.ndim - ndim] + tuple(p.out for p in plans)
    if kwargs.get("return_indices"):
        assert result[1].shape == out.shape and result[1].dtype == np.int64


def test_messages_name_the_argument_for_classic_mistakes():
    x = np.arange(16.0).reshape(4, 4)
    cases = [
        (lambda: pc.pool2d(x, 2, mode=np.array(["max"])), "mode"),
        (lambda: pc.pool2d(x, 2, mode="lp", p="2"), "p="),
        (lambda: pc.pool2d(x, 2, mode="lp", p=1j), "p="),
        (lambda: pc.pool2d(x, 2, ceil_mode="yes"), "ceil_mode"),
        (lambda: pc.pool2d(x, 2, mode="avg", count_include_pad="no"), "count_include_pad"),
        (lambda: pc.pool2d(x, 3, padding=1, pad_value="a"), "pad_value"),
        (lambda: pc.pool2d(x, 3, padding=1, pad_value=np.ones(3)), "pad_value"),
        (lambda: pc.pool2d(x, 3, padding=1, pad_value=10**400), "pad_value"),
        (lambda: pc.pool2d(x, 2, mode="stochastic", rng="a"), "rng"),
        (lambda: pc.pool2d(x, 2, mode="stochastic", rng=-1), "rng"),
        (lambda: pc.pool2d(x, 2, foo=1), "foo"),
        (lambda: pc.pool2d([[1, 2], [3]], 1), "x"),
        (lambda: pc.pool_nd(x, 2.0, 2), "ndim"),
        (lambda: pc.pool2d(x, 2, padding=(np.array(1), np.array(1))), "padding"),
        (lambda: pc.pool2d(x, 2, padding=b"\x01\x01"), "padding"),
        (lambda: pc.pool2d(x, b"\x02\x02"), "kernel_size"),
        (lambda: pc.pool2d(x, 2, 10**30), "stride"),
        (lambda: pc.output_size(None, 2), "n="),
        (lambda: pc.output_size(4.5, 2), "n="),
        (lambda: pc.plan_axes(4, 2), "spatial_shape"),
        (lambda: pc.plan_axes((), 2), "spatial_shape"),
        (lambda: pc.window_cells((1,) * 40, 1), "input_shape"),
        (lambda: pc.normalize_tuple(2, "2", "k"), "ndim"),
        (lambda: pc.normalize_tuple(2, 2, "k", minimum="1"), "minimum"),
        (lambda: pc.geometry_kwargs(None), "pool_kwargs"),
        (lambda: pc.adaptive_bins("4", 2), "n="),
        (lambda: pc.adaptive_bins(4, 0), "out="),
        (lambda: pc.unpool2d(np.ones((1, 1)), np.zeros((1, 1)), (2, 2)), "indices"),
        (lambda: pc.unpool2d(np.ones((1, 1)), np.zeros((1, 1), int), None), "output_shape"),
        (lambda: pc.unpool2d(np.ones((1, 1)), np.zeros((1, 1), int), "ab"), "output_shape"),
        (lambda: pc.unpool2d(np.ones((1, 1, 1)), np.zeros((1, 1, 1), int), (2, 2, 2)),
         "output_shape"),
        (lambda: pc.pool2d_backward("a", x, 2), "grad_output"),
        (lambda: pc.pool2d_backward(np.ones((2, 2)), x, 2, mode="avg", divisor_override=2.5),
         "divisor_override"),
        (lambda: framework_args(SETTINGS, ["pytorch"]), "framework"),
        (lambda: framework_args(None, "pytorch"), "settings"),
        (lambda: compare_frameworks(x, None), "settings"),
        (lambda: compare_frameworks(np.zeros((6, 6)), SETTINGS, seed="a"), "seed"),
        (lambda: Settings(shape=4, kernel=2, ceil_mode="yes"), "ceil_mode"),
    ]
    for call, name in cases:
        with pytest.raises(ValueError) as info:
            call()
        assert name in str(info.value), (name, str(info.value))


# ----------------------------------------------------------------------------- references

DTYPES = (np.float64, np.float32, np.float16, np.int8, np.int16, np.uint8, np.int64, np.bool_)


def _elements(dtype, special, big=2**40):
    dtype = np.dtype(dtype)
    if dtype == bool:
        return st.booleans()
    if dtype.kind == "f":
        small = st.integers(-4, 4).map(float) | st.just(0.5)
        return small | st.sampled_from([np.nan, np.inf, -np.inf]) if special else small
    lo, hi = (-big, big) if dtype.itemsize == 8 else (np.iinfo(dtype).min, np.iinfo(dtype).max)
    small = st.integers(max(lo, -4), 4)
    return small | st.sampled_from([lo, hi]) if special else small


@st.composite
def arrays(draw, nd, max_side=6, lead=True, dtypes=DTYPES, special=None, big=2**40):
    """A small array ``(*lead, *spatial)`` of one of ``dtypes``; floats may hold NaN/inf,
    ints their extremes (int64: ``±big``, so that float64 sums stay exact)."""
    dtype = draw(st.sampled_from(dtypes))
    special = draw(st.booleans()) if special is None else special
    lead_shape = draw(st.lists(st.sampled_from([1, 2, 2, 0]), max_size=2)) if lead else []
    spatial = draw(st.lists(st.integers(1, max_side), min_size=nd, max_size=nd))
    return draw(hnp.arrays(dtype, tuple(lead_shape + spatial),
                           elements=_elements(dtype, special, big)))


#: The same values in other memory layouts: the core reads any strides.
LAYOUTS = {
    "C-contiguous": lambda a: a,
    "rows reversed": lambda a: np.flip(np.flip(a, -1).copy(), -1),
    "every other cell": lambda a: np.repeat(a, 2, axis=-1)[..., ::2],
    "read-only": lambda a: np.frombuffer(a.tobytes(), a.dtype).reshape(a.shape),
    "Fortran order": np.asfortranarray,
}


# ----------------------------------------------------------------------------- pooling

@st.composite
def pool_settings(draw, nd):
    """Well-typed settings, valid or not (zero/negative sizes, too much padding, ...)."""
    ints = st.integers(-1, 5) if draw(st.integers(0, 9)) == 0 else st.integers(1, 5)

    def one_or_tuple(strategy):
        return strategy | st.tuples(*[strategy] * nd) | st.builds(np.int64, strategy)

    kernel = draw(one_or_tuple(ints))
    stride = draw(st.none() | one_or_tuple(ints))
    dilation = draw(one_or_tuple(st.integers(1, 3)))
    padding = draw(st.one_of(
        st.integers(0, 2), st.tuples(*[st.integers(0, 2)] * nd),
        st.tuples(*[st.tuples(st.integers(0, 3), st.integers(0, 3))] * nd),
        st.sampled_from(["same", "valid", "SAME", "Valid", "same_lower", "SAME_LOWER"])))
    return dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation,
                ceil_mode=draw(st.booleans()), ceil_clip=draw(st.booleans()),
                check_half_kernel=draw(st.booleans()))


def _plain(v):
    """Settings without NumPy scalars, for the reference."""
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, tuple):
        return tuple(_plain(u) for u in v)
    return v


#: How the fast path (``pooling_core.separable``) cuts the examples' work: besides the
#: direct path of small inputs, the tap path (every tap straight into the output, for
#: mid-sized calls), and, with the tap path off, bands of the default size (whole planes,
#: several channels a band), of 64 or 1500 bytes (many row bands, one channel a band,
#: padded band edges, bands wholly in the padding), and tiny bands shared by three threads.
BANDS = {
    "tap path": dict(direct_bytes=0),
    "tap path, finished a row at a time": dict(direct_bytes=0, min_band_bytes=0),
    "default bands": dict(direct_bytes=0, tap_bytes=0),
    "64 B bands": dict(direct_bytes=0, tap_bytes=0, band_bytes=64),
    "1500 B bands": dict(direct_bytes=0, tap_bytes=0, band_bytes=1500),
    "64 B bands, 3 threads": dict(direct_bytes=0, tap_bytes=0, band_bytes=64, threads=3,
                                  parallel_bytes=0, thread_band_bytes=0),
}
SEPARABLE_MODES = ("max", "min", "sum", "avg", "lp")


@fuzz(1500)
@given(st.data())
def test_pool_matches_the_reference(data):
    check_pool_against_the_reference(data, pc.MODES)


@pytest.mark.parametrize("bands", list(BANDS))
@fuzz(300)
@given(data=st.data())
def test_fast_path_bands_match_the_reference(bands, data):
    with mock.patch.object(separable, "POLICY", replace(separable.POLICY, **BANDS[bands])):
        check_pool_against_the_reference(data, SEPARABLE_MODES, indices=False)


def check_pool_against_the_reference(data, modes, indices=True):
    """The reference fuzzer: a random ``pool1d``/``pool2d``/``pool3d`` call of one of
    ``modes`` raises exactly when the reference rejects the settings, and otherwise
    gives the reference's shape, dtype, values and (if ``indices``) indices."""
    nd = data.draw(st.sampled_from([1, 2, 2, 3]), label="nd")
    mode = data.draw(st.sampled_from(modes), label="mode")
    # (lp: int64 up to 2**12, so that sums of x**p in float64 stay exact)
    x = data.draw(arrays(nd, max_side=6 if nd < 3 else 4, big=2**12 if mode == "lp" else 2**40),
                  label="x")
    layout = data.draw(st.sampled_from(list(LAYOUTS)), label="layout")
    x_in = LAYOUTS[layout](x)
    geo = data.draw(pool_settings(nd), label="geometry")
    indices = indices and mode in pc.INDEX_MODES and data.draw(st.booleans(),
                                                               label="return_indices")
    training = mode != "stochastic" or data.draw(st.booleans(), label="training")
    extra = dict(
        count_include_pad=data.draw(st.none() | st.booleans(), label="count_include_pad"),
        divisor_override=data.draw(st.none() | st.integers(1, 5), label="divisor_override")
        if mode == "avg" else None,
        p=data.draw(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0, 4.0]), label="p"),
        # (not -1e9 with lp: its 4th power overflows float32 sums, as in PyTorch; not 300 with
        # float16 lp: see test_float16_lp_of_representable_values_is_finite)
        pad_value=data.draw(st.none() | st.sampled_from(
            [0, -3, 2.5, np.nan, np.inf] + ([] if mode == "lp" else [-1e9])
            + ([] if mode == "lp" and x.dtype == np.float16 else [300])), label="pad_value"),
        training=training,
    )
    fn = {1: pc.pool1d, 2: pc.pool2d, 3: pc.pool3d}[nd]
    ok, result = contract(fn, x_in, mode=mode, return_indices=indices, rng=7, **geo, **extra,
                          names=GEOMETRY + ("x", "return_indices"))
    event(f"{mode}{' indices' if indices else ''}{'' if training else ' eval'}: "
          f"{'returned' if ok else 'ValueError'}")
    plain = {k: _plain(v) for k, v in geo.items()}
    axes = reference_axes(x.shape[x.ndim - nd:], plain["kernel_size"], plain["stride"],
                          plain["padding"], plain["dilation"], plain["ceil_mode"],
                          plain["ceil_clip"], plain["check_half_kernel"])
    if indices and not training:  # test-time stochastic pooling picks no cell
        assert not ok and "training=True" in result
        return
    assert ok == (axes is not None), result
    if not ok:
        return
    out, idx = result if indices else (result, None)
    lead = x.shape[: x.ndim - nd]
    assert out.shape == lead + tuple(ax.out for ax in axes)
    # the output size per axis is output_size's, with the padding as applied
    for i, ax in enumerate(axes):
        s_i = None if plain["stride"] is None else per_axis(plain["stride"], nd)[i]
        assert pc.output_size(ax.n, ax.k, s_i if s_i is None else ax.s, (ax.pb, ax.pa), ax.d,
                              plain["ceil_mode"], ceil_clip=plain["ceil_clip"]) == ax.out
    assert [p.out for p in pc.plan_axes(x.shape[x.ndim - nd:], geo["kernel_size"], geo["stride"],
                                        geo["padding"], geo["dilation"], geo["ceil_mode"],
                                        ceil_clip=geo["ceil_clip"],
                                        check_half_kernel=geo["check_half_kernel"])] == \
        [ax.out for ax in axes]

    data_dtype = np.uint8 if x.dtype == bool else x.dtype
    padded = any(ax.pb or ax.ext for ax in axes)
    pad_value = extra["pad_value"] if padded else None
    picks = mode in pc.INDEX_MODES and extra["training"]
    if picks:
        assert out.dtype == data_dtype or (pad_value is not None and out.dtype == np.float64)
    else:
        assert out.dtype.kind == "f"
    real = outer([ax.real for ax in axes])
    empty = ~real.reshape(real.shape[:nd] + (-1,)).any(-1)  # windows of padding only
    with np.errstate(all="ignore"):
        if mode == "stochastic" and extra["training"]:
            _check_stochastic_picks(x, axes, out, idx, empty)
        else:
            cip = extra["count_include_pad"]
            if cip is None:  # the default: an average ignores padding given by name
                cip = mode != "avg" or not isinstance(geo["padding"], str)
            want = reference_pool(x, axes, mode, pad_value, cip,
                                  extra["divisor_override"], extra["p"], extra["training"])
            got = out.astype(np.float64)
            if out.dtype.kind == "f":  # the output's own rounding
                want = want.astype(out.dtype).astype(np.float64)
            if mode == "median":  # a window of padding only has no median
                got, want = got[..., ~empty], want[..., ~empty]
            exact = mode in ("max", "min", "median")
            tol = 0 if exact else tolerance(out.dtype)
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)
    if idx is not None and mode != "stochastic":  # (stochastic: checked with its picks)
        _check_indices(x, axes, out, idx, empty, pad_value, mode)


def _check_indices(x, axes, out, idx, empty, pad_value, mode):
    """Each index names a real cell of its own window holding the output value, or is -1
    where a ``pad_value`` that takes part won."""
    nd = len(axes)
    assert idx.shape == out.shape and idx.dtype == np.int64
    taps = flat_taps(axes)
    keep = np.broadcast_to(~empty, idx.shape)
    mine = (taps == idx.reshape(idx.shape + (1,) * nd)).any(axis=tuple(range(-nd, 0)))
    plane = prod(ax.n for ax in axes)
    xs = np.asarray(x, dtype=np.float64).reshape(-1, plane)
    picked = np.take_along_axis(
        xs, np.clip(idx, 0, plane - 1).reshape(xs.shape[0], prod(out.shape[out.ndim - nd:])), 1)
    picked = picked.reshape(idx.shape)
    value = out.astype(np.float64)
    same = (picked == value) | (np.isnan(picked) & np.isnan(value))
    if mode == "median":
        same |= np.isnan(value)  # NaN in the window: the value is NaN, the index any tap
    won_by_padding = idx == -1
    if pad_value is None:
        assert not (won_by_padding & keep).any()
    else:
        with np.errstate(all="ignore"):
            pv = float(np.array(pad_value).astype(out.dtype))  # as the output holds it
        assert ((value == pv) | (np.isnan(value) & np.isnan(pv)))[won_by_padding & keep].all()
    ok = won_by_padding | (mine & same)
    assert ok[keep].all(), (idx[keep & ~ok], out[keep & ~ok])


def _check_stochastic_picks(x, axes, out, idx, empty):
    """Training: every output is a real cell of its window, one with a positive weight
    when the window has one; windows of padding only give 0. (Windows holding NaN or
    inf have no meaningful probabilities and are only checked for shape.)"""
    nd = len(axes)
    kax = tuple(range(-nd, 0))
    vals = windows(np.asarray(x, dtype=np.float64), axes, 0.0)
    real = np.broadcast_to(outer([ax.real for ax in axes]), vals.shape)
    value = out.astype(np.float64)
    member = ((vals == value.reshape(value.shape + (1,) * nd)) & real).any(kax)
    positive = (np.where(real, vals, 0) > 0).any(kax)
    keep = np.broadcast_to(~empty, out.shape) & ~(~np.isfinite(vals) & real).any(kax)
    assert member[keep].all()
    assert (value > 0)[keep & positive].all()
    assert (value[np.broadcast_to(empty, out.shape)] == 0).all()
    if idx is not None:
        _check_indices(x, axes, out, idx, ~keep, None, "stochastic")


# A float16 input sums in float32 and is divided before it is cast back: window sums
# above 65504 (float16's largest) must not turn an average or an Lp norm into inf.
def test_float16_average_of_representable_values_is_finite():
    with np.errstate(over="ignore"):
        assert pc.pool2d(np.full((2, 2), 60000, np.float16), 2, mode="avg")[0, 0] == 60000


def test_float16_lp_of_representable_values_is_finite():
    with np.errstate(over="ignore"):
        assert pc.pool2d(np.full((2, 2), 300, np.float16), 2, mode="lp")[0, 0] == 600


@fuzz(60)
@given(arrays(2, lead=False, special=False, dtypes=(np.float64, np.int64)), st.integers(1, 3),
       st.integers(1, 3), st.integers(0, 50))
def test_stochastic_is_reproducible_and_reads_a_generator(x, k, s, seed):
    ok, a = contract(pc.pool2d, x, k, s, mode="stochastic", rng=seed)
    if not ok:
        return
    b = pc.pool2d(x, k, s, mode="stochastic", rng=np.random.default_rng(seed))
    np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- backward

@fuzz(500)
@given(st.data())
def test_backward_matches_the_reference(data):
    nd = 2
    x = data.draw(arrays(nd, max_side=5, dtypes=(np.float64, np.float32, np.int8, np.uint8)),
                  label="x")
    geo = data.draw(pool_settings(nd), label="geometry")
    mode = data.draw(st.sampled_from(pc.MODES), label="mode")
    cip = data.draw(st.none() | st.booleans(), label="count_include_pad")
    plain = {k: _plain(v) for k, v in geo.items()}
    axes = reference_axes(x.shape[-nd:], plain["kernel_size"], plain["stride"], plain["padding"],
                          plain["dilation"], plain["ceil_mode"], plain["ceil_clip"],
                          plain["check_half_kernel"])
    out_shape = x.shape[:-nd] + (tuple(ax.out for ax in axes) if axes else (1, 1))
    g = data.draw(hnp.arrays(np.float64, out_shape, elements=st.integers(-3, 3).map(float)),
                  label="grad_output")
    ok, grad = contract(pc.pool2d_backward, g, x, mode=mode, count_include_pad=cip, rng=5, **geo,
                        names=GEOMETRY + ("x", "grad_output"))
    assert ok == (axes is not None), grad
    if not ok:
        return
    assert grad.shape == x.shape and grad.dtype == np.float64
    plane = prod(ax.n for ax in axes)
    taps = np.broadcast_to(flat_taps(axes), g.shape[-nd:] + tuple(ax.k for ax in axes))
    planes = g.reshape(-1, *g.shape[-nd:])
    if mode in ("sum", "avg"):
        weight = planes
        if mode == "avg":
            counted = not isinstance(geo["padding"], str) if cip is None else cip  # the default
            frame = outer([ax.frame if counted else ax.real for ax in axes])
            with np.errstate(all="ignore"):
                weight = planes / frame.sum(axis=(-2, -1))
        want = np.zeros((planes.shape[0], plane + 1))
        w = np.broadcast_to(weight[..., None, None], (planes.shape[0],) + taps.shape)
        cols = np.where(taps >= 0, taps, plane)
        for i in range(planes.shape[0]):
            np.add.at(want[i], cols, np.where(taps >= 0, w[i], 0))
        want = want[:, :plane].reshape(x.shape)
        np.testing.assert_allclose(grad, want, rtol=1e-12, atol=1e-12, equal_nan=True)
    elif mode in pc.INDEX_MODES:  # the gradient goes to the chosen cell
        _, idx = pc.pool2d(x, mode=mode, return_indices=True, rng=5, **geo)
        want = np.zeros((planes.shape[0], plane + 1))
        cols = np.where((idx >= 0) & (idx < plane), idx, plane).reshape(
            planes.shape[0], prod(planes.shape[1:]))
        for i in range(planes.shape[0]):
            np.add.at(want[i], cols[i], planes[i].ravel())
        np.testing.assert_allclose(grad, want[:, :plane].reshape(x.shape), atol=1e-12)
    else:
        assert mode == "lp"


@fuzz(60)
@given(hnp.arrays(np.float64, st.tuples(st.integers(2, 4), st.integers(2, 4)),
                  elements=st.floats(0.5, 3.0)),
       st.sampled_from([1.0, 2.0, 3.0]), st.integers(1, 2), st.booleans())
def test_lp_backward_matches_finite_differences(x, p, s, ceil):
    ok, grad = contract(pc.pool2d_backward, np.ones(pc.pool2d(x, 2, s, mode="lp", p=p,
                                                                        ceil_mode=ceil).shape),
                               x, 2, s, mode="lp", p=p, ceil_mode=ceil)
    assert ok, grad
    eps = 1e-6
    numeric = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        hi, lo = x.copy(), x.copy()
        hi[i] += eps
        lo[i] -= eps
        numeric[i] = (pc.pool2d(hi, 2, s, mode="lp", p=p, ceil_mode=ceil).sum()
                      - pc.pool2d(lo, 2, s, mode="lp", p=p, ceil_mode=ceil).sum()) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


@fuzz(120)
@given(arrays(2, max_side=6, special=True, dtypes=(np.float64, np.int8, np.uint8, np.float16)),
       st.integers(1, 3), st.integers(1, 3), st.sampled_from(["max", "min", "median"]))
def test_unpool_places_the_values_at_their_indices(x, k, s, mode):
    ok, result = contract(pc.pool2d, x, k, s, mode=mode, return_indices=True)
    if not ok:
        return
    values, idx = result
    for shape in (x.shape[-2:], x.shape):
        ok, un = contract(pc.unpool2d, values, idx, shape)
        assert ok, un
        assert un.shape == x.shape and un.dtype == values.dtype
        plane = x.shape[-2] * x.shape[-1]
        flat_un, flat_idx = un.reshape(-1, plane), idx.reshape(-1, idx.shape[-2] * idx.shape[-1])
        flat_val = values.reshape(flat_idx.shape)
        for plane_un, plane_idx, plane_val in zip(flat_un, flat_idx, flat_val):
            hit = np.zeros(plane_un.shape, bool)
            hit[plane_idx] = True
            assert (plane_un[~hit] == 0).all()
            for cell in np.flatnonzero(hit):  # one of the values sent there
                sent = plane_val[plane_idx == cell]
                assert (sent == plane_un[cell]).any() or (np.isnan(sent).any()
                                                          and np.isnan(plane_un[cell]))


# ----------------------------------------------------------------------------- adaptive

def _bins(n, o):
    return [(i * n // o, -(-(i + 1) * n // o)) for i in range(o)]


@fuzz(200)
@given(arrays(2, max_side=7), st.tuples(st.integers(1, 9), st.integers(1, 9)),
       st.sampled_from(["max", "min", "avg", "sum"]), st.booleans())
def test_adaptive_matches_the_reference(x, size, mode, indices):
    indices = indices and mode in ("max", "min")
    ok, result = contract(pc.adaptive_pool2d, x, size, mode, indices)
    assert ok, result
    out, idx = result if indices else (result, None)
    lead, (h, w) = x.shape[:-2], x.shape[-2:]
    assert out.shape == lead + size
    xf = x.astype(np.float64)
    want = np.zeros(lead + size)
    with np.errstate(all="ignore"):
        for i, (r0, r1) in enumerate(_bins(h, size[0])):
            for j, (c0, c1) in enumerate(_bins(w, size[1])):
                block = xf[..., r0:r1, c0:c1]
                want[..., i, j] = {"max": np.max, "min": np.min, "sum": np.sum,
                                   "avg": np.mean}[mode](block, axis=(-2, -1))
    tol = tolerance(out.dtype) if out.dtype.kind == "f" else 0
    np.testing.assert_allclose(out.astype(np.float64), want.astype(out.dtype).astype(np.float64),
                               rtol=tol, atol=tol, equal_nan=True)
    assert out.dtype == ((np.uint8 if x.dtype == bool else x.dtype) if mode in ("max", "min")
                         else np.result_type(np.float64 if x.dtype.kind != "f" else x.dtype))
    if idx is not None:
        flat = xf.reshape(-1, h * w)
        picked = np.take_along_axis(flat, idx.reshape(flat.shape[0], prod(size)), 1)
        picked = picked.reshape(out.shape)
        np.testing.assert_array_equal(picked, out.astype(np.float64))
        rows, cols = idx // w, idx % w
        for i, (r0, r1) in enumerate(_bins(h, size[0])):
            for j, (c0, c1) in enumerate(_bins(w, size[1])):
                assert ((rows[..., i, j] >= r0) & (rows[..., i, j] < r1)).all()
                assert ((cols[..., i, j] >= c0) & (cols[..., i, j] < c1)).all()


@fuzz(80)
@given(arrays(2, max_side=9), st.sampled_from(["max", "min", "avg", "sum"]))
def test_global_pool_is_the_plane_reduction(x, mode):
    ok, out = contract(pc.global_pool2d, x, mode)
    assert ok, out
    reduce = {"max": np.max, "min": np.min, "avg": np.mean, "sum": np.sum}[mode]
    with np.errstate(all="ignore"):
        want = reduce(x.astype(np.float64), axis=(-2, -1), keepdims=True).astype(out.dtype)
    tol = tolerance(out.dtype) if out.dtype.kind == "f" else 0
    np.testing.assert_allclose(out.astype(np.float64), want.astype(np.float64), rtol=tol,
                               atol=tol, equal_nan=True)


@fuzz(150)
@given(st.integers(-2, 40), st.integers(-2, 40))
def test_adaptive_bins_follow_pytorch(n, out):
    ok, result = contract(pc.adaptive_bins, n, out, names=("n=", "out="))
    assert ok == (n >= 1 and out >= 1)
    if ok:
        assert [tuple(map(int, b)) for b in zip(*result)] == _bins(n, out)


# ----------------------------------------------------------------------------- geometry

@fuzz(600)
@given(st.data())
def test_geometry_functions_match_the_reference(data):
    nd = data.draw(st.sampled_from([1, 2, 3]), label="nd")
    spatial = tuple(data.draw(st.lists(st.integers(1, 7), min_size=nd, max_size=nd),
                              label="spatial"))
    geo = data.draw(pool_settings(nd), label="geometry")
    plain = {k: _plain(v) for k, v in geo.items()}
    axes = reference_axes(spatial, plain["kernel_size"], plain["stride"], plain["padding"],
                          plain["dilation"], plain["ceil_mode"], plain["ceil_clip"],
                          plain["check_half_kernel"])
    args = (geo["kernel_size"], geo["stride"], geo["padding"], geo["dilation"], geo["ceil_mode"])
    opts = dict(ceil_clip=geo["ceil_clip"], check_half_kernel=geo["check_half_kernel"])
    for fn in (pc.plan_axes, pc.window_cells, pc.coverage, pc.explain_axes):
        ok, result = contract(fn, spatial, *args, **opts, names=GEOMETRY + ("x",))
        assert ok == (axes is not None), (fn.__name__, result)
    if axes is None:
        return
    plans = pc.plan_axes(spatial, *args, **opts)
    assert [(p.out, p.pad_before, p.pad_after) for p in plans] == [
        (ax.out, ax.pb, ax.pa) for ax in axes]
    cells = pc.window_cells(spatial, *args, **opts)
    real = np.broadcast_to(outer([ax.real for ax in axes]), cells.inside.shape)
    for i in range(nd):
        np.testing.assert_array_equal(cells.coords[..., i], axis_coords(axes, i))
    np.testing.assert_array_equal(cells.inside, real)
    np.testing.assert_array_equal(cells.empty, ~real.reshape(real.shape[:nd] + (-1,)).any(-1))
    taps = flat_taps(axes)
    counts = np.zeros(prod(spatial) + 1, dtype=np.int64)
    np.add.at(counts, np.where(taps >= 0, taps, prod(spatial)).ravel(), 1)
    np.testing.assert_array_equal(pc.coverage(spatial, *args, **opts),
                                  counts[:-1].reshape(spatial))
    for ax, e in zip(axes, pc.explain_axes(spatial, *args, **opts)):
        assert (e.out, e.pad_before, e.pad_after) == (ax.out, ax.pb, ax.pa)
        read = np.zeros(ax.n, bool)
        read[ax.coords[ax.real]] = True
        assert e.unread == tuple(np.flatnonzero(~read))
        assert e.substituted_text.split(" = ")[-1].split(" ")[0] == str(
            ax.out + (1 if e.clipped else 0))


@fuzz(300)
@given(st.integers(1, 12), st.integers(-1, 5), st.none() | st.integers(-1, 4),
       st.one_of(st.integers(-1, 3), st.tuples(st.integers(-1, 3), st.integers(0, 3)),
                 st.sampled_from(["same", "valid", "full"])),
       st.integers(0, 3), st.booleans(), st.booleans(), st.booleans())
def test_output_size_and_explanation_agree_with_the_rule(n, k, s, padding, d, ceil_mode, clip,
                                                         half):
    ax = reference_axes((n,), k, s, (padding,) if isinstance(padding, tuple) else padding, d,
                        ceil_mode, clip, True) if padding != "full" else None
    ok, out = contract(pc.output_size, n, k, s, padding, d, ceil_mode, ceil_clip=clip,
                       names=GEOMETRY + ("n=",))
    assert ok == (ax is not None), out
    ok2, e = contract(pc.explain_output_size, n, k, s, padding, d, ceil_mode, ceil_clip=clip,
                      check_half_kernel=half, names=GEOMETRY + ("n=",))
    if ok:
        assert out == ax[0].out
        assert ok2 and e.out == out and (e.pad_before, e.pad_after) == (ax[0].pb, ax[0].pa)


@fuzz(300)
@given(HOSTILE, st.integers(0, 4), st.integers(-2, 2))
def test_normalize_tuple_returns_ints_or_names_the_argument(value, ndim, minimum):
    ok, result = contract(pc.normalize_tuple, value, ndim, "kernel_size", minimum=minimum,
                          names=("kernel_size",))
    if ok:
        assert isinstance(result, tuple) and len(result) == ndim
        assert all(type(v) is int and v >= minimum for v in result)
        expected = (int(value),) * ndim if isinstance(value, (int, np.integer)) else tuple(
            int(v) for v in value)
        assert result == expected


@fuzz(150)
@given(st.one_of(HOSTILE, st.dictionaries(st.sampled_from(pc.GEOMETRY_KEYS + ("mode", "p")),
                                          HOSTILE, max_size=5)))
def test_geometry_kwargs_keeps_the_window_keys(kwargs):
    ok, result = contract(pc.geometry_kwargs, kwargs, names=("pool_kwargs",))
    assert ok == isinstance(kwargs, dict)
    if ok:
        assert result == {k: v for k, v in kwargs.items() if k in pc.GEOMETRY_KEYS}


# ----------------------------------------------------------------------------- conventions

@st.composite
def user_settings(draw):
    k = draw(st.integers(1, 4) | st.tuples(st.integers(1, 4), st.integers(1, 4)))
    return dict(shape=draw(st.integers(1, 8) | st.tuples(st.integers(1, 8), st.integers(1, 8))),
                kernel=k, stride=draw(st.none() | st.integers(1, 4)),
                padding=draw(st.integers(0, 2) | st.sampled_from(["valid", "same", "same_lower"])),
                dilation=draw(st.integers(1, 3)), mode=draw(st.sampled_from(pc.MODES)),
                ceil_mode=draw(st.booleans()),
                count_include_pad=draw(st.none() | st.booleans()))


@fuzz(200)
@given(user_settings(), st.booleans(), st.integers(0, 3))
def test_frameworks_run_what_they_announce(fields, fallback, seed):
    ok, s = contract(Settings, **fields)
    assert ok, s
    x = np.random.default_rng(seed).integers(-5, 6, (2,) + s.shape).astype(np.float64)
    for key in FRAMEWORKS:
        ok, call = contract(framework_args, s, key, fallback=fallback)
        assert ok, call
        assert call.framework == key and (call.ok or call.reason)
        if call.ok:
            out = pc.pool2d(x, **call.kwargs, rng=seed)
            assert out.shape == (2,) + call.out_shape
    ok, rows = contract(compare_frameworks, x, s, seed, names=GEOMETRY + ("x",))
    assert ok, rows
    names = [r.framework for r in rows]
    assert names in (list(FRAMEWORKS), [k for k in FRAMEWORKS if k != "onnxruntime"])
    if "onnxruntime" not in names:  # left out only where it gives the spec's answer
        spec, ort = framework_args(s, "onnx"), framework_args(s, "onnxruntime")
        assert spec.ok == ort.ok and (spec.ok or spec.reason == ort.reason)
        if spec.ok:
            np.testing.assert_array_equal(pc.pool2d(x, **spec.kwargs, rng=seed),
                                          pc.pool2d(x, **ort.kwargs, rng=seed))
    for row in rows:
        assert (row.output is None) == (not row.call.ok)
        if row.output is not None:
            assert row.output.shape == (2,) + row.call.out_shape
    if rows[0].call.ok:
        assert rows[0].same_shape and rows[0].max_abs_diff == 0.0


# ----------------------------------------------------------------------------- work limits

#: Function calls (Python and C builtins) a call that fails fast may make: checking the
#: arguments and placing the windows take a few hundred; any loop over cells, millions.
FAIL_FAST_CALLS = 5_000


def _fails_fast(call, *words, peak_bytes=4 << 20):
    """The call raises ValueError naming ``words`` after at most ``FAIL_FAST_CALLS``
    function calls, its memory peak (tracemalloc, which NumPy reports to) under
    ``peak_bytes``."""
    tracemalloc.start()
    try:
        calls, error = calls_made(call)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(error, ValueError), error
    message = str(error)
    assert all(w in message for w in words), message
    assert calls < FAIL_FAST_CALLS, (calls, message)
    assert peak < peak_bytes, (peak, message)
    return message


SMALL = np.zeros((4, 4))


@pytest.mark.parametrize("call, words", [
    # a 10**12-cell output: no allocation, a message with the number and the limit
    (lambda: pc.pool2d(SMALL, 1, padding=((10**6, 10**6), (10**6, 10**6))),
     ("MAX_CELLS", "250,000,000")),
    (lambda: pc.plan_axes((10**6, 10**6), 1), ("1,000,000,000,000", "MAX_CELLS")),
    (lambda: pc.window_cells((10**6, 10**6), 1), ("MAX_CELLS",)),
    (lambda: pc.window_cells((3000, 3000), 2, 1), ("MAX_DRAWN_CELLS",)),
    (lambda: pc.coverage((10**12,), 2), ("MAX_CELLS",)),
    (lambda: pc.coverage((5000, 5000), 2), ("MAX_DRAWN_CELLS",)),
    (lambda: pc.explain_output_size(10**12, 2), ("MAX_CELLS",)),
    (lambda: pc.output_size(10**30, 2), ("MAX_CELLS",)),
    (lambda: pc.pool2d(SMALL, 1, stride=10**12), ("stride", "MAX_CELLS")),
    (lambda: pc.pool2d(SMALL, 1, dilation=10**12), ("dilation", "MAX_CELLS")),
    (lambda: pc.pool1d(np.zeros(4), 2, padding=((10**9, 10**9),), stride=10**8),
     ("padding", "MAX_CELLS")),
    (lambda: pc.adaptive_pool2d(SMALL, 10**12), ("output_size", "MAX_CELLS")),
    (lambda: pc.adaptive_pool2d(SMALL, (10**5, 10**5)), ("MAX_CELLS",)),
    (lambda: pc.adaptive_bins(10, 10**12), ("out=", "MAX_CELLS")),
    (lambda: pc.unpool2d(np.ones((1, 1)), np.zeros((1, 1), int), (10**6, 10**6)),
     ("output_shape", "MAX_CELLS")),
    (lambda: pc.unpool2d(np.ones((1, 1)), np.zeros((1, 1), int), (10**13, 10**13)),
     ("output_shape", "MAX_CELLS")),
])
def test_limits_enormous_settings_fail_fast(call, words):
    _fails_fast(call, *words)


BIG = np.zeros((1000, 1000), dtype=np.uint8)  # 1 MB


@pytest.mark.parametrize("call, words", [
    # a 10**6-cell kernel on the paths that visit every kernel offset
    (lambda: pc.pool2d(BIG, 1000, mode="median"), ("MAX_MEDIAN_KERNEL_CELLS", "1,000,000")),
    (lambda: pc.pool2d(BIG, 65, mode="median"), ("MAX_MEDIAN_KERNEL_CELLS", "4,225")),
    (lambda: pc.pool2d(BIG, 1000, return_indices=True), ("MAX_KERNEL_CELLS",)),
    (lambda: pc.pool2d(BIG, 1000, mode="stochastic"), ("MAX_KERNEL_CELLS",)),
    (lambda: pc.pool2d_backward(np.ones((1, 1)), BIG, 1000, mode="avg"), ("MAX_KERNEL_CELLS",)),
    # work = output cells x taps: 801**2 windows x 200**2 taps = 2.6e10 steps
    (lambda: pc.pool2d(BIG, 200, 1, return_indices=True),
     ("641,601 output cells × 40,000 taps = 25,664,040,000 steps", "MAX_WORK")),
    (lambda: pc.pool2d_backward(np.ones((801, 801)), BIG, 200, 1, mode="sum"), ("MAX_WORK",)),
    # median: 961**2 windows x 58,367 comparators (a 2048-input network) = 5.4e10 steps
    (lambda: pc.pool2d(BIG, 40, 1, mode="median"), ("58,367 comparators", "MAX_WORK")),
    (lambda: pc.adaptive_pool2d(BIG, 1, return_indices=True), ("MAX_KERNEL_CELLS",)),
    # the same settings on 300 channels (a broadcast view: nothing allocated): too much output
    (lambda: pc.pool2d(np.broadcast_to(BIG, (300, 1000, 1000)), 2, 1), ("MAX_CELLS",)),
])
def test_limits_huge_kernels_fail_fast_where_every_offset_is_visited(call, words):
    _fails_fast(call, *words, peak_bytes=8 << 20)


#: Function calls a separable reduction with a 1000×1000 kernel may make: doubling
#: needs about log2(1000) = 10 levels per axis and a few pieces, in a few bands;
#: one call per tap would be 2,000 NumPy calls alone.
HUGE_KERNEL_CALLS = 3_000


def test_limits_separable_modes_take_a_huge_kernel_in_bounded_work_and_memory():
    """Max, avg, sum and lp reduce separably (O(N log k)): a 10**6-cell kernel is fine."""
    x = np.arange(10**6, dtype=np.float32).reshape(1000, 1000)
    for mode in ("max", "avg", "sum", "min"):
        tracemalloc.start()
        try:
            calls, out = calls_made(lambda: pc.pool2d(x, 1000, mode=mode))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        want = {"max": x.max(), "min": x.min(), "sum": x.sum(dtype=np.float64),
                "avg": x.mean(dtype=np.float64)}[mode]
        np.testing.assert_allclose(out[0, 0], want, rtol=1e-4)  # float32 sums
        assert calls < HUGE_KERNEL_CALLS and peak < 64 << 20, (mode, calls, peak)
    out = pc.global_pool2d(x, "max")
    assert out.shape == (1, 1) and out[0, 0] == x.max()


def test_separable_pass_plan_memory_does_not_grow_with_the_kernel():
    x = np.zeros(2 * 10**5, dtype=np.uint8)
    tracemalloc.start()
    try:
        pc.pool1d(x, x.size, mode="max")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak  # the pass plan lists only the chosen level's pieces


def test_limits_let_a_40_megapixel_rgb_image_with_a_15x15_kernel_through():
    """The image lab's largest upload (40 MP, three channels): the limits accept every mode
    at the kernel's own stride, and the separable modes (and padding) at stride 1."""
    shape = (5000, 8000)
    for stride, padding in ((1, 7), (1, "same"), (15, 0), (15, 7)):
        pc.plan_axes(shape, 15, stride, padding, planes=3)  # max, min, avg, sum, lp
    for work in ("scan", "median"):  # indices, stochastic, backward; median
        pc.plan_axes(shape, 15, 15, planes=3, work=work)
        pc.plan_axes(shape, 15, 15, 7, planes=3, work=work)
    pc.plan_axes(shape, 15, 4, planes=3, work="scan")
    pc.plan_axes(shape, (5000, 8000), planes=3)  # global pooling through pool2d
    with pytest.raises(ValueError, match="MAX_WORK"):  # minutes of work: refused
        pc.plan_axes(shape, 15, 1, 7, planes=3, work="scan")


def test_limits_messages_say_the_number_the_limit_and_what_to_do():
    message = _fails_fast(lambda: pc.pool2d(BIG, 200, 1, return_indices=True), "MAX_WORK")
    assert message == (
        "kernel_size=200, stride=1, padding=0, dilation=1 on spatial shape (1000, 1000): "
        "641,601 output cells × 40,000 taps = 25,664,040,000 steps, more than the limit of "
        "3,000,000,000 (MAX_WORK); use a larger stride, a smaller kernel or a smaller input")
    # at the limits, the same kinds of call run
    assert pc.pool2d(BIG[:64, :64], 64, mode="median").shape == (1, 1)
    assert pc.pool2d(BIG[:512, :512], 512, return_indices=True)[1].shape == (1, 1)
