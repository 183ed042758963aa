"""The fast separable path gives the values of a straightforward reduction.

The reference (shared with test_fuzz_core) pads the input explicitly, takes every
window with ``sliding_window_view`` and reduces it: slow and obviously right. Random
configurations cover padding (symmetric, explicit, SAME), dilation, ceil mode,
strides larger and smaller than the kernel, 1-D/2-D/3-D, leading axes, NaN and
integer inputs, and tiny band sizes that force many bands and channel blocks.
"""
import tracemalloc

import numpy as np
import pytest
from test_fuzz_core import reference_axes, reference_pool

import pooling_core.separable as separable
from pooling_core import pool_nd


def reference(x, ndim, mode, kernel_size, stride, padding, dilation, ceil_mode,
              count_include_pad=None, p=2.0, pad_value=None):
    """Pool by materialising every window (test_fuzz_core's reference: ``sliding_window_view``
    of the explicitly padded input, window geometry from the documented rules).

    ``count_include_pad=None`` is the documented default: an average ignores padding given
    by name ('same', 'valid'), counts numeric padding; lp always counts it."""
    if count_include_pad is None:
        count_include_pad = mode != "avg" or not isinstance(padding, str)
    axes = reference_axes(x.shape[-ndim:], kernel_size, stride, padding, dilation, ceil_mode)
    with np.errstate(invalid="ignore", divide="ignore"):  # windows of padding only: 0/0
        return reference_pool(x, axes, mode, pad_value, count_include_pad, None, p, True)


def random_case(seed):
    rng = np.random.default_rng(seed)
    ndim = int(rng.choice([1, 2, 2, 2, 3]))
    kernel = tuple(int(k) for k in rng.integers(1, 6, ndim))
    dilation = tuple(int(d) for d in rng.choice([1, 1, 2, 3], ndim))
    stride = tuple(int(s) for s in rng.integers(1, 5, ndim))
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    size = tuple(int(sp + rng.integers(0, 9)) for sp in spans)
    style = rng.choice(["none", "symmetric", "explicit", "same"])
    if style == "symmetric":
        padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
    elif style == "explicit":
        padding = tuple((int(rng.integers(0, 3)), int(rng.integers(0, 3))) for _ in kernel)
    elif style == "same":
        padding = "same"
    else:
        padding = 0
    lead = tuple(int(n) for n in rng.integers(1, 4, rng.integers(0, 3)))
    dtype = rng.choice(["float32", "float64", "uint8", "int16", "int64"])
    if dtype.startswith("float"):
        x = rng.standard_normal(lead + size).astype(dtype) * 10
        if rng.random() < 0.3:
            x.flat[rng.integers(0, x.size, 3)] = np.nan
    else:
        info = np.iinfo(dtype)
        x = rng.integers(max(info.min, -1000), min(info.max, 1000), lead + size, endpoint=True,
                         dtype=dtype)
    return dict(x=x, ndim=ndim, kernel_size=kernel, stride=stride, padding=padding,
                dilation=dilation, ceil_mode=bool(rng.random() < 0.4))


def check(case, mode, **extra):
    got = pool_nd(case["x"], case["ndim"], case["kernel_size"], case["stride"], case["padding"],
                  case["dilation"], mode, case["ceil_mode"], **extra)
    want = reference(case["x"], case["ndim"], mode, case["kernel_size"], case["stride"],
                     case["padding"], case["dilation"], case["ceil_mode"], **extra)
    assert got.shape == want.shape
    x = case["x"]
    if mode in ("max", "min"):
        assert got.dtype == x.dtype
        np.testing.assert_array_equal(got, want)  # the same element, NaN where NaN
    elif np.issubdtype(x.dtype, np.integer) and mode == "sum":
        np.testing.assert_array_equal(got, want)  # integer sums are exact
    else:
        rtol = 2e-5 if x.dtype == np.float32 else 1e-11
        scale = reference(np.abs(x), case["ndim"], "sum", case["kernel_size"], case["stride"],
                          case["padding"], case["dilation"], case["ceil_mode"])
        err = np.abs(got.astype(np.float64) - want)
        finite = np.isfinite(want)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        assert np.all(err[finite] <= rtol * (1 + scale[finite] ** (1 if mode != "lp" else 1))), \
            f"max error {err[finite].max()}"


@pytest.fixture(params=[(separable.BAND_BYTES, 1), (64, 1), (1500, 1), (64, 3)],
                ids=["default-band", "band-64B", "band-1500B", "band-64B-3-threads"])
def band_bytes(request, monkeypatch):
    """Tiny bands force many row bands, one channel per block, and padded band edges;
    with threads, the bands are shared among them even on small inputs."""
    band, threads = request.param
    monkeypatch.setattr(separable, "BAND_BYTES", band)
    monkeypatch.setattr(separable, "THREADS", threads)
    monkeypatch.setattr(separable, "PARALLEL_BYTES", 0 if threads > 1 else 1 << 62)
    monkeypatch.setattr(separable, "THREAD_BAND_BYTES", 0)
    return band


@pytest.mark.parametrize("seed", range(60))
@pytest.mark.parametrize("mode", ["max", "min", "sum", "avg"])
def test_fast_path_equals_reference(seed, mode, band_bytes):
    check(random_case(seed), mode)


@pytest.mark.parametrize("seed", range(30))
def test_avg_without_padding_in_divisor(seed, band_bytes):
    check(random_case(1000 + seed), "avg", count_include_pad=False)


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_lp_equals_reference(seed, p, band_bytes):
    """p = 2 on float data squares the taps inside a strided first pass, others first."""
    case = random_case(2000 + seed)
    case["x"] = np.abs(case["x"])  # fractional powers of negatives are NaN on both sides
    check(case, "lp", p=p)


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("mode", ["max", "sum"])
def test_pad_value_takes_part(seed, mode, band_bytes):
    check(random_case(3000 + seed), mode, pad_value=3)


def test_non_contiguous_input():
    x = np.random.default_rng(1).standard_normal((7, 9, 3))
    view = np.moveaxis(x, -1, 0)  # (3, 7, 9), not C-contiguous
    for mode in ("max", "avg"):
        np.testing.assert_allclose(pool_nd(view, 2, 3, 2, 1, 1, mode),
                                   reference(view, 2, mode, 3, 2, 1, 1, False), rtol=1e-12)


def pool_counting_replays(monkeypatch, *args, **kwargs):
    """``(result, bands replayed, result with every band planned)`` of ``pool_nd(*args)``."""
    replayed = []
    replay = separable._Replay.__call__

    def counted(self, band):
        replayed.append(band)
        replay(self, band)

    with monkeypatch.context() as patch:
        patch.setattr(separable._Replay, "__call__", counted)
        got = pool_nd(*args, **kwargs)
    with monkeypatch.context() as patch:
        patch.setattr(separable._Recording, "replay", lambda *_: None)  # plan every band
        planned = pool_nd(*args, **kwargs)
    return got, len(replayed), planned


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("mode", ["max", "sum", "avg", "lp"])
def test_replayed_bands_equal_planned_bands(seed, mode, band_bytes, monkeypatch):
    """Bands after the first of their shape replay its recorded NumPy calls: bit for bit
    what planning each band gives (NaN where NaN)."""
    case = random_case(4000 + seed)
    x = np.abs(case["x"]) if mode == "lp" else case["x"]
    got, _, planned = pool_counting_replays(
        monkeypatch, x, case["ndim"], case["kernel_size"], case["stride"], case["padding"],
        case["dilation"], mode, case["ceil_mode"])
    np.testing.assert_array_equal(got, planned)


@pytest.mark.parametrize("name, dtype, mode, setting, extra", [
    ("plain", "float32", "avg", (3, 1, 0, 1), {}),
    ("strided first pass, padded band edges", "float32", "max", (3, 2, 0, 1), {}),
    ("framed first pass", "float32", "avg", (3, 2, 1, 1), {}),
    ("divisors per window", "float32", "avg", (3, 2, 1, 1), {"count_include_pad": False}),
    ("cast to the accumulator", "uint8", "avg", (3, 2, 0, 1), {}),
    ("squares fused into the first pass", "float32", "lp", (3, 2, 0, 1), {}),
    ("squared band", "float64", "lp", (3, 1, 0, 2), {"p": 3.0}),
    ("float16 through a stage", "float16", "avg", (2, 2, 0, 1), {}),
    ("doubling levels", "float64", "min", (7, 1, 0, 1), {}),
])
@pytest.mark.parametrize("threads", [1, 2])
def test_bands_replay_on_every_path(name, dtype, mode, setting, extra, threads, monkeypatch):
    """Each path of the fast reduction replays its bands (so the planning is not paid
    per band) and gives what planning every band gives."""
    monkeypatch.setattr(separable, "BAND_BYTES", 2000)
    monkeypatch.setattr(separable, "THREADS", threads)
    monkeypatch.setattr(separable, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(separable, "THREAD_BAND_BYTES", 0)
    x = np.random.default_rng(5).uniform(0, 200, (3, 40, 37)).astype(dtype)
    got, replayed, planned = pool_counting_replays(monkeypatch, x, 2, *setting, mode, **extra)
    assert replayed > 0, name
    np.testing.assert_array_equal(got, planned)
    np.testing.assert_allclose(got, reference(x, 2, mode, *setting, False, **extra),
                               rtol=1e-3 if dtype == "float16" else 1e-5)


def test_whole_planes_replay_by_channel_block(monkeypatch):
    """Small planes go several channels a band; the blocks after the first replay."""
    monkeypatch.setattr(separable, "BAND_BYTES", 3000)
    x = np.random.default_rng(6).standard_normal((40, 8, 9)).astype(np.float32)
    got, replayed, planned = pool_counting_replays(monkeypatch, x, 2, 3, 1, 0, 1, "avg")
    assert replayed > 0
    np.testing.assert_array_equal(got, planned)


def _layouts():
    rng = np.random.default_rng(8)
    data = rng.integers(0, 255, (3, 80, 37), dtype=np.uint8)
    return {
        "rows reversed": data[:, 40:][:, ::-1],
        "every other row": data[:, ::2],
        "broadcast rows": np.broadcast_to(data[:1, :1], (3, 40, 37)),
        "read-only bytes": np.frombuffer(data[:, :40].tobytes(), np.uint8).reshape(3, 40, 37),
    }


@pytest.mark.parametrize("layout", list(_layouts()))
@pytest.mark.parametrize("mode", ["max", "avg", "lp"])
@pytest.mark.parametrize("setting", [(3, 1, 0, 1), (3, 2, 1, 1)])
def test_bands_of_any_input_layout_replay_right(layout, mode, setting, monkeypatch):
    """Inputs read in place through negative, doubled, zero or read-only strides: the
    replayed views are made over the memory's owner with the same strides (or nothing
    is replayed where a band must be copied), and the result is the planned one."""
    monkeypatch.setattr(separable, "BAND_BYTES", 2000)
    x = _layouts()[layout]
    got, _, planned = pool_counting_replays(monkeypatch, x, 2, *setting, mode)
    np.testing.assert_array_equal(got, planned)
    np.testing.assert_allclose(got, reference(np.ascontiguousarray(x), 2, mode, *setting, False),
                               rtol=1e-5)


def test_a_copy_of_the_band_is_not_replayed(monkeypatch):
    """A band that is not C-contiguous is copied before its passes: that copy is new memory
    every band, so nothing is replayed, and the result is still right."""
    monkeypatch.setattr(separable, "BAND_BYTES", 2000)
    x = np.moveaxis(np.random.default_rng(7).standard_normal((40, 37, 3)), -1, 0)
    got, replayed, planned = pool_counting_replays(monkeypatch, x, 2, 3, 1, 0, 1, "avg")
    assert replayed == 0
    np.testing.assert_array_equal(got, planned)
    np.testing.assert_allclose(got, reference(x, 2, "avg", 3, 1, 0, 1, False), rtol=1e-12)


def test_float16_sums_are_finished_before_they_are_cast_back():
    x = np.full((1, 4, 4), 30000, dtype=np.float16)
    assert pool_nd(x, 2, 2, mode="avg").tolist() == [[[30000, 30000], [30000, 30000]]]
    assert pool_nd(x, 2, 2, mode="avg").dtype == np.float16


def test_a_long_kernel_on_one_axis_is_planned_in_few_calls():
    """Global pooling of a long 1-D signal: a few doubling levels, not one call per tap."""
    plan = separable._plan_pass(10**6, 10**6, 1, True)
    assert len(plan) < 200  # pieces of 2**13 taps, not 10**6 single taps
    assert pool_nd(np.arange(10**6, dtype=np.float32), 1, 10**6).tolist() == [999999.0]


def test_float32_sums_stay_float32_and_need_no_float64_copy():
    """Sums of float32 data add in float32 (as torch does); the result is float32."""
    x = np.random.default_rng(2).random((2, 40, 50), dtype=np.float32)
    out = pool_nd(x, 2, 3, 1, mode="avg")
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, reference(x, 2, "avg", 3, 1, 0, 1, False), rtol=1e-6)


def test_uint8_sums_are_exact_in_int32():
    x = np.full((1, 300, 300), 255, dtype=np.uint8)
    out = pool_nd(x, 2, 15, 1, mode="sum")
    assert out.dtype == np.float64 and np.all(out == 255 * 225)


@pytest.mark.parametrize("kernel, overlap, expected", [
    (5, True, [(2, 0), (2, 1)]),     # two overlapping 4-tap pieces cover 5 taps
    (5, False, [(2, 0), (0, 4)]),    # a sum needs 4 + 1, no overlap
    (7, False, [(2, 0), (1, 4), (0, 6)]),
])
def test_pieces_cover_the_kernel(kernel, overlap, expected):
    assert separable._pieces(kernel, 4, overlap) == expected
    covered = [f + t for lv, f in expected for t in range(1 << lv)]
    assert sorted(set(covered)) == list(range(kernel))
    if not overlap:
        assert len(covered) == kernel  # each tap counted once in a sum


@pytest.mark.parametrize("fill", [-3.4028234663852886e38, float("nan"), 10**30])
def test_integer_input_with_a_fill_it_cannot_hold(fill):
    """Windows that read no padding ignore the fill; whole-stride alignment cells used to
    receive it and overflow the integer dtype (Caffe's -FLT_MAX on a small int matrix)."""
    x = np.array([[1, 3, 2, 1], [4, 8, 5, 0], [7, 1, 9, 2], [0, 3, 4, 6]])
    out = pool_nd(x, 2, 3, 3, mode="max", pad_value=fill, ceil_clip=False)
    np.testing.assert_array_equal(out, [[9]])


def peak_extra(fn):
    """``(peak bytes allocated while fn() runs beyond its result, result)``, after a first
    untraced run (which also fills caches: the plans, NumPy's own)."""
    fn()
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        out = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - out.nbytes, out


def pool_peak_extra(x, setting, mode):
    """:func:`peak_extra` of 2-D pooling with a ``BENCH_SETTINGS`` entry."""
    kernel, stride, padding, dilation, ceil_mode = setting
    return peak_extra(lambda: pool_nd(x, 2, kernel, stride, padding, dilation, mode, ceil_mode))


#: Issue 7's settings (kernel, stride, padding, dilation, ceil_mode), as bench_core.py runs them.
BENCH_SETTINGS = [(2, 2, 0, 1, False), (3, 2, 0, 1, False), (3, 1, 0, 1, False),
                  (7, 1, 0, 1, False), (15, 1, 0, 1, False), (3, 2, 1, 1, False),
                  (3, 1, 0, 2, False), (3, 2, 1, 1, True)]


@pytest.mark.parametrize("setting", BENCH_SETTINGS, ids=str)
@pytest.mark.parametrize("mode", ["max", "min", "sum", "avg", "lp"])
@pytest.mark.parametrize("dtype", ["float32", "uint8", "float64"])
def test_buffers_stay_within_a_fifth_of_the_output(setting, mode, dtype):
    """Issue 7's memory rule, on an image large enough for the band budget to bind: the
    bands' buffers (padded band, cast copy, pass results, doubling levels, divisor block)
    and all else a call allocates take at most 0.2x the output, in every mode; small
    outputs (under about 160 KB: uint8 max and min here) may take a fixed
    ``MIN_BAND_BYTES + RESERVE_BYTES``. (A band is at least one output row, the input
    rows it reads across the other axes: so a kernel far taller than the output is long
    can need more.)"""
    x = np.random.default_rng(7).uniform(0, 255, (3, 481, 517)).astype(dtype)
    extra, out = pool_peak_extra(x, setting, mode)
    floor = separable.MIN_BAND_BYTES + separable.RESERVE_BYTES
    assert extra <= max(0.2 * out.nbytes, floor), (extra, out.nbytes, out.shape)


@pytest.mark.parametrize("setting", BENCH_SETTINGS, ids=str)
@pytest.mark.parametrize("mode", ["max", "min", "avg", "lp"])
def test_the_smallest_bench_size_meets_the_rule_too(setting, mode):
    """bench_core.py's smallest input, float32 (3, 256, 256): outputs from about 190 KB,
    where the fixed floor (16 KiB bands, 16 KiB reserve, loop buffers cut to the band)
    still fits within 0.2x (with 64 KiB bands it took up to 0.45x)."""
    x = np.random.default_rng(9).standard_normal((3, 256, 256)).astype(np.float32)
    extra, out = pool_peak_extra(x, setting, mode)
    assert extra <= 0.2 * out.nbytes, (extra, out.nbytes, out.shape)


@pytest.mark.parametrize("setting", BENCH_SETTINGS, ids=str)
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_threads_share_the_same_budget(setting, mode, monkeypatch):
    """With the bands shared among threads (from outputs of about 24 MB; here from
    1 MB), all threads' buffers together stay within the same 0.2x."""
    monkeypatch.setattr(separable, "THREAD_BAND_BYTES", 64 << 10)
    x = np.random.default_rng(8).standard_normal((3, 1024, 1000)).astype(np.float32)
    extra, out = pool_peak_extra(x, setting, mode)
    assert extra <= 0.2 * out.nbytes, (extra, out.nbytes, out.shape)
