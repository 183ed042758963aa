"""Core behaviour that has no PyTorch twin: errors, TF SAME/VALID, geometry, median,
stochastic, explanation, memory."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import peak_extra
from pooling_core import (adaptive_pool2d, coverage, explain_axes, explain_output_size,
                          global_pool2d, output_size, plan_axes, pool1d, pool2d, pool_nd,
                          pool2d_backward, pool3d, unpool2d, window_cells)

SEED = np.array([[1, 3, 2, 1], [4, 8, 5, 0], [7, 1, 9, 2], [0, 3, 4, 6]])


def test_seed_example():
    np.testing.assert_array_equal(pool2d(SEED, 2), [[8, 5], [7, 9]])
    assert pool2d(SEED, 2).dtype == SEED.dtype


# ---------------------------------------------------------------- errors name the rule

@pytest.mark.parametrize("call, message", [
    (lambda: pool2d(SEED, 0), "kernel_size=0 must be positive"),
    (lambda: pool2d(SEED, 2, stride=0), "stride=0 must be positive"),
    (lambda: pool2d(SEED, 2, stride=(1, -1)), "stride=(1, -1) must be positive"),
    (lambda: pool2d(SEED, 4, padding=3),
     "padding=3 is more than half of kernel_size=4 (PyTorch requires padding <= kernel_size // 2"),
    (lambda: pool2d(SEED, 2, padding=-1), "padding=-1 must be >= 0"),
    (lambda: pool2d(SEED, 5, padding="valid"), "spans 5 cells on axis 0, more than the input (4)"),
    (lambda: pool2d(SEED, 2, dilation=4), "would be empty"),
    (lambda: pool2d(SEED, 2, mode="mean"), "mode='mean' is unknown"),
    (lambda: pool2d(np.arange(4), 2), "pool2d pools the last 2 axes but x has shape (4,)"),
    (lambda: pool2d(SEED, (2, 2, 2)), "kernel_size=(2, 2, 2) has 3 values"),
    (lambda: pool2d(SEED, 2, padding="full"), "padding='full' is not understood"),
    (lambda: pool2d(SEED, 2.5), "kernel_size=2.5 must be an int"),
    (lambda: pool2d(SEED, 2, mode="avg", return_indices=True), "return_indices=True needs"),
    (lambda: pool2d(SEED, 2, divisor_override=0, mode="avg"), "divisor_override=0 must be"),
    (lambda: pool2d(SEED, 2, mode="lp", p=0), "p=0 must be a positive"),
    (lambda: pool2d(np.array([["a"]]), 1), "pooling needs real numbers"),
    (lambda: pool2d(np.zeros((0, 3)), 1), "x has size 0 on pooled axis 0 (spatial shape (0, 3))"),
    (lambda: pool_nd(SEED, 0, 2), "ndim=0 must be 1, 2 or 3"),
    (lambda: unpool2d(np.ones((1, 1)), np.array([[9]]), (2, 2)), "outside a plane of 4 cells"),
    (lambda: pool2d_backward(np.ones((3, 3)), SEED, 2), "grad_output has shape (3, 3)"),
])
def test_errors_name_parameter_value_and_rule(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)


# ---------------------------------------------------------------- TensorFlow SAME / VALID

def test_plans_are_remembered_only_for_arguments_planned_alike():
    """plan_axes remembers the plans of exact arguments: the same call gives the same
    objects, but a bool, a numpy int or a float is never taken for the int it equals,
    and a call that raised raises again."""
    first = plan_axes((6, 6), 2, 2, padding=(1, 0))
    assert plan_axes((6, 6), 2, 2, padding=(1, 0)) is first
    assert plan_axes((6, 6), 2, 2, padding=[1, 0]) == first  # planned alike, its own entry
    assert plan_axes((6, 6), np.int64(2), 2, padding=(1, 0)) == first
    with pytest.raises(ValueError, match="kernel_size=True"):
        plan_axes((6, 6), True, 2, padding=(1, 0))
    with pytest.raises(ValueError, match="kernel_size"):
        plan_axes((6, 6), 2.0, 2, padding=(1, 0))
    for _ in range(2):
        with pytest.raises(ValueError, match="padding"):
            plan_axes((6, 6), 2, 2, padding=2)
    assert plan_axes(np.array([6, 6]), 2, 2, padding=(1, 0)) == first  # arrays: not kept


def test_tf_same_padding_puts_the_odd_cell_after():
    # n=5, k=2, s=2: out = ceil(5/2) = 3; total pad = (3-1)*2 + 2 - 5 = 1 -> 0 before, 1 after
    plan = plan_axes((5,), 2, padding="same")[0]
    assert (plan.out, plan.pad_before, plan.pad_after) == (3, 0, 1)
    x = np.array([1.0, 2, 3, 4, 5])
    np.testing.assert_array_equal(pool1d(x, 2, padding="same"), [2, 4, 5])
    # TF's average ignores the padded cell: the last window is just [5] -> 5
    np.testing.assert_array_equal(pool1d(x, 2, padding="same", mode="avg",
                                         count_include_pad=False), [1.5, 3.5, 5])


def test_tf_same_3x3_stride2_worked_example():
    # n=6, k=3, s=2: out = ceil(6/2) = 3, total = (3-1)*2 + 3 - 6 = 1 -> top 0, bottom 1
    x = np.arange(36.0).reshape(6, 6)
    out = pool2d(x, 3, 2, padding="same", mode="avg", count_include_pad=False)
    # window (0, 0): rows 0-2, cols 0-2: mean of 0,1,2,6,7,8,12,13,14 = 7
    # window (2, 2): rows 4-5 (6 is padding), cols 4-5: mean of 28,29,34,35 = 31.5
    assert out.shape == (3, 3)
    assert out[0, 0] == 7 and out[2, 2] == 31.5
    np.testing.assert_array_equal(pool2d(x, 3, 2, padding="same")[2], [32, 34, 35])


def test_tf_same_with_odd_total_on_both_sides_and_valid():
    # n=7, k=4, s=1: out = 7, total = 6 + 4 - 7 = 3 -> 1 before, 2 after
    plan = plan_axes((7,), 4, 1, padding="same")[0]
    assert (plan.out, plan.pad_before, plan.pad_after) == (7, 1, 2)
    # VALID: floor((7 - 4) / 1) + 1 = 4
    assert output_size(7, 4, 1, padding="valid") == 4
    # Keras 'same' = floor((n - 1) / s) + 1
    for n in range(1, 30):
        for s in (1, 2, 3):
            assert output_size(n, 3, s, padding="same") == (n - 1) // s + 1


# ---------------------------------------------------------------- geometry

def test_window_cells_and_coverage():
    wc = window_cells((4, 4), 2)
    assert wc.coords.shape == (2, 2, 2, 2, 2)
    assert wc.coords[1, 1].reshape(-1, 2).tolist() == [[2, 2], [2, 3], [3, 2], [3, 3]]
    wc = window_cells((5, 5), 3, 2, padding=1)
    assert not wc.inside[0, 0, 0, 0] and wc.inside[0, 0, 1, 1]
    assert not wc.empty.any()
    cov = coverage((5, 5), 3, 2, padding=1)
    assert cov.tolist()[0] == [1, 2, 1, 2, 1]
    np.testing.assert_array_equal(coverage((5, 5), 2)[4], 0)  # last row dropped


def test_window_of_padding_only_is_flagged():
    wc = window_cells((2, 2), 2, 1, padding=1, dilation=3)
    assert wc.empty.all()


def test_dilated_window_has_gaps():
    wc = window_cells((5,), 3, 1, dilation=2)
    assert wc.coords[0, :, 0].tolist() == [0, 2, 4]


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 30), k=st.integers(1, 5), s=st.integers(1, 4), d=st.integers(1, 3),
       ceil=st.booleans(), data=st.data())
def test_coverage_counts_the_windows_that_read_each_cell(n, k, s, d, ceil, data):
    p = data.draw(st.integers(0, k // 2))
    if d * (k - 1) + 1 > n + 2 * p:
        return
    wc = window_cells((n,), k, s, p, d, ceil)
    counts = np.bincount(wc.coords[..., 0][wc.inside], minlength=n)
    np.testing.assert_array_equal(coverage((n,), k, s, p, d, ceil), counts)
    # explanation agrees with the geometry
    e = explain_output_size(n, k, s, p, d, ceil)
    assert e.out == wc.coords.shape[0] == output_size(n, k, s, p, d, ceil)
    assert list(e.unread) == np.flatnonzero(counts == 0).tolist()


# ---------------------------------------------------------------- explanation

def test_explanation_substitutes_numbers():
    e = explain_output_size(7, 3, 2, 1)
    assert e.out == 4
    assert e.substituted_text == ("floor((7 + 2·1 - 1·(3 - 1) - 1) / 2) + 1 = floor(6 / 2) + 1 "
                                  "= 3 + 1 = 4")
    assert r"\lfloor" in e.general_latex and e.rounding == "floor"
    e = explain_output_size(25, 2, 2)
    assert e.out == 12 and e.unread == (24,) and "never read" in e.notes[0]
    e = explain_output_size(32, 1, 2, ceil_mode=True)
    assert e.out == 16 and e.clipped and "dropped" in e.notes[0]
    e = explain_output_size(6, 3, 2, "same")
    assert (e.out, e.pad_before, e.pad_after, e.padding_kind) == (3, 0, 1, "same")
    assert [a.out for a in explain_axes((6, 9), (3, 2), 2, "same")] == [3, 5]


# ---------------------------------------------------------------- modes without a torch twin

def test_sum_min_median_on_the_seed():
    np.testing.assert_array_equal(pool2d(SEED, 2, mode="sum"), [[16, 8], [11, 21]])
    np.testing.assert_array_equal(pool2d(SEED, 2, mode="min"), [[1, 0], [0, 2]])
    # lower median of (1,3,4,8) is 3; of (2,1,5,0) is 1; (7,1,0,3) -> 1; (9,2,4,6) -> 4
    med, idx = pool2d(SEED, 2, mode="median", return_indices=True)
    np.testing.assert_array_equal(med, [[3, 1], [1, 4]])
    np.testing.assert_array_equal(SEED.ravel()[idx], med)
    assert med.dtype == SEED.dtype


def test_median_ignores_padding_and_propagates_nan():
    x = np.array([[1.0, 5.0, 3.0]])
    # windows (k=3, s=1, pad 1): [pad,1,5] -> lower median of (1,5) = 1; [1,5,3] -> 3; [5,3,pad] -> 3
    np.testing.assert_array_equal(pool2d(x, (1, 3), 1, (0, 1), mode="median"), [[1, 3, 3]])
    x = np.array([[1.0, np.nan, 3.0, 4.0]])
    np.testing.assert_array_equal(np.isnan(pool2d(x, (1, 2), mode="median")), [[True, False]])


def test_median_in_chunks_matches_numpy(monkeypatch):
    import pooling_core.reductions as red
    monkeypatch.setattr(red, "_MEDIAN_CHUNK", 50)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 13, 11))
    got = pool2d(x, 3, 1, mode="median")  # 9 values: lower median = middle
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))
    np.testing.assert_array_equal(got, np.median(windows, axis=(-2, -1)))


def test_stochastic_samples_proportionally_and_reproducibly():
    x = np.array([[1.0, 3.0], [0.0, 0.0]])  # probabilities 1/4, 3/4, 0, 0
    draws = pool2d(np.broadcast_to(x, (4000, 2, 2)), 2, mode="stochastic", rng=0)
    share = (draws == 3.0).mean()
    assert abs(share - 0.75) < 0.03 and set(np.unique(draws)) == {1.0, 3.0}
    a = pool2d(x[None].repeat(5, 0), 2, mode="stochastic", rng=7, return_indices=True)
    b = pool2d(x[None].repeat(5, 0), 2, mode="stochastic", rng=7, return_indices=True)
    np.testing.assert_array_equal(a[1], b[1])
    # the gather without indices (no padding) picks the same cells as the indexed one
    y = np.random.default_rng(2).standard_normal((3, 9, 9))
    np.testing.assert_array_equal(pool2d(y, 3, 2, mode="stochastic", rng=4),
                                  pool2d(y, 3, 2, mode="stochastic", rng=4, return_indices=True)[0])
    u8 = np.random.default_rng(2).integers(0, 256, (3, 9, 9), dtype=np.uint8)
    vals, idx = pool2d(u8, 3, 2, mode="stochastic", rng=4, return_indices=True)
    np.testing.assert_array_equal(pool2d(u8, 3, 2, mode="stochastic", rng=4), vals)
    np.testing.assert_array_equal(np.take_along_axis(u8.reshape(3, -1), idx.reshape(3, -1), 1)
                                  .reshape(vals.shape), vals)
    # all-zero window: Caffe picks the first cell
    v, i = pool2d(np.zeros((2, 2)), 2, mode="stochastic", rng=0, return_indices=True)
    assert v[0, 0] == 0 and i[0, 0] == 0
    # test time: sum(x^2) / sum(x) = (1 + 9) / 4 = 2.5
    assert pool2d(x, 2, mode="stochastic", training=False)[0, 0] == 2.5


def test_backward_routes_max_and_spreads_avg():
    g = pool2d_backward(np.ones((2, 2)), SEED, 2)
    assert g.sum() == 4 and g[1, 1] == 1 and g[2, 0] == 1  # 8 at (1,1), 7 at (2,0)
    g = pool2d_backward(np.ones((3, 3)), SEED, 2, 1)  # overlapping windows add up
    assert g[1, 1] == 3  # 8 wins three of the four windows it is in (9 wins the fourth)
    assert g[2, 2] == 4  # 9 wins all four
    g = pool2d_backward(np.ones((2, 2)), SEED, 2, mode="avg")
    np.testing.assert_array_equal(g, np.full((4, 4), 0.25))
    g = pool2d_backward(np.ones((2, 2)), SEED, 2, mode="sum")
    np.testing.assert_array_equal(g, np.ones((4, 4)))


def test_unpool_places_values_at_indices():
    out, idx = pool2d(SEED, 2, return_indices=True)
    up = unpool2d(out, idx, SEED.shape)
    assert up.shape == (4, 4) and up.sum() == out.sum() and up[1, 1] == 8
    np.testing.assert_array_equal(pool2d(up, 2), out)


def test_adaptive_and_global():
    np.testing.assert_array_equal(adaptive_pool2d(SEED, 2), pool2d(SEED, 2))
    assert global_pool2d(SEED)[0, 0] == SEED.mean()
    assert global_pool2d(SEED, "max").shape == (1, 1)


def test_leading_axes_kept_and_nd():
    x = np.arange(2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    assert pool2d(x, 2).shape == (2, 3, 2, 2)
    assert pool1d(np.arange(10).reshape(2, 5), 2).tolist() == [[1, 3], [6, 8]]
    assert pool3d(np.arange(27).reshape(3, 3, 3), 2, 1).shape == (2, 2, 2)


def test_pad_value_takes_part():
    # scikit-image style: cval=0 pads the end and takes part in the max and the mean
    x = np.full((3, 3), -1.0)
    out = pool2d(x, 2, padding=((0, 1), (0, 1)), pad_value=0.0, check_half_kernel=False)
    np.testing.assert_array_equal(out, [[-1, 0], [0, 0]])
    out = pool2d(np.full((3, 3), 9.0), 2, padding=((0, 1), (0, 1)), mode="avg", pad_value=0.0)
    np.testing.assert_array_equal(out, [[9, 4.5], [4.5, 2.25]])


def test_caffe_ceil_without_clip():
    # k=1, s=2, n=32: PyTorch ceil -> 16 (clip), Caffe with pad 0 -> 17 (last window empty)
    assert output_size(32, 1, 2, ceil_mode=True) == 16
    assert output_size(32, 1, 2, ceil_mode=True, ceil_clip=False) == 17
    out = pool1d(np.arange(32.0), 1, 2, ceil_mode=True, ceil_clip=False)
    assert out.shape == (17,) and out[-1] == -np.inf


def test_large_input_pools_in_well_under_2_gb_extra():
    x = np.zeros((3, 4096, 4096), dtype=np.float32)
    extra, out = peak_extra(lambda: pool2d(x, 3, 1), warm=False)
    assert extra + out.nbytes < 2 * 1024 ** 3, extra  # well under 2 GB extra


def test_indices_with_a_pad_value_point_at_real_cells_or_minus_one():
    x = np.full((3, 3), -1.0)
    x[0, 0] = -5
    out, idx = pool2d(x, 2, padding=((0, 1), (0, 1)), pad_value=0.0, check_half_kernel=False,
                      return_indices=True)
    np.testing.assert_array_equal(out, [[-1, 0], [0, 0]])
    np.testing.assert_array_equal(idx, [[1, -1], [-1, -1]])  # the padding (0) won: -1
    # a pad value that never wins (Caffe's -FLT_MAX) gives PyTorch's indices
    rng = np.random.default_rng(3)
    y = rng.standard_normal((2, 7, 7))
    a = pool2d(y, 3, 2, 1, return_indices=True)
    b = pool2d(y, 3, 2, 1, return_indices=True, pad_value=-3.4e38)
    np.testing.assert_array_equal(a[1], b[1])
    # the backward pass drops the gradient of windows the padding won
    g = pool2d_backward(np.ones((2, 2)), x, 2, padding=((0, 1), (0, 1)), pad_value=0.0,
                        check_half_kernel=False)
    assert g.sum() == 1 and g[0, 1] == 1


def test_integer_input_stays_integer_when_no_padding_is_applied():
    x = np.arange(16, dtype=np.uint8).reshape(4, 4)
    assert pool2d(x, 2, pad_value=-3.4e38).dtype == np.uint8  # nothing padded
    assert pool2d(x, 3, 2, 1, pad_value=-3.4e38).dtype == np.float64  # padded: needs float
