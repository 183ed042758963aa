"""ROI pool and ROI align against onnxruntime and against torchvision's rule.

torchvision does not load on this machine (its C operators need a matching torch build),
so two oracles stand in for it, and each test names the one it uses:

* **onnxruntime 1.32** (``MaxRoiPool``; ``RoiAlign`` at opset 16, whose
  ``coordinate_transformation_mode`` ``'output_half_pixel'`` is torchvision's
  ``aligned=False`` and ``'half_pixel'`` is ``aligned=True``, ``sampling_ratio=0`` its
  ``-1``). A real, independent C++ implementation: the main oracle, float32 only.
* **a slow loop written from torchvision's CPU kernels** (``roi_pool_kernel.cpp``,
  ``roi_align_kernel.cpp`` + ``roi_align_common.h``), box by box, bin by bin, sample by
  sample, in plain Python: for what onnxruntime cannot check. (1) ROI pool with NaN,
  where onnxruntime differs from torchvision: its ``std::max`` keeps a NaN until the
  next cell replaces it, while torchvision's ``value > max`` never lets NaN win.
  (2) float64 inputs, which onnxruntime's ``MaxRoiPool`` does not take, and ROI align
  in float64 to 1e-12. (3) ROI align's backward:
  the loop is written in torch, so autograd through it gives torchvision's gradient
  (its ``roi_align_backward`` adds ``grad * w / count`` at each sample's four corners,
  which is what autograd of the forward loop computes).

ROI align's ``mode='max'`` exists only in ONNX, so onnxruntime is its oracle (it
implements the ONNX definition: the largest weighted corner value per sample). Cases
come from seeded generators; boxes are drawn partly outside the map, degenerate and
large as well as ordinary.
"""
from functools import lru_cache
from math import ceil, floor

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
torch = pytest.importorskip("torch")
from onnx import TensorProto, helper

import pooling_core.roi as roi_module
from pooling_core import (roi_align, roi_align_backward, roi_align_samples, roi_pool,
                          roi_pool_bins)

ort.set_default_logger_severity(3)  # RoiAlign's max mode warns on every session
N_CASES = 60


# ----------------------------------------------------------------------------- onnxruntime


def _session(node, inputs):
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info(n, t, None) for n, t in inputs],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)])
    options = ort.SessionOptions()  # one thread, no spinning: these inputs are tiny
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


@lru_cache(maxsize=None)
def ort_roi_pool(pooled, scale):
    node = helper.make_node("MaxRoiPool", ["X", "rois"], ["Y"], pooled_shape=list(pooled),
                            spatial_scale=scale)
    return _session(node, [("X", TensorProto.FLOAT), ("rois", TensorProto.FLOAT)])


@lru_cache(maxsize=None)
def ort_roi_align(pooled, scale, sampling_ratio, aligned, mode):
    node = helper.make_node(
        "RoiAlign", ["X", "rois", "batch_indices"], ["Y"], output_height=pooled[0],
        output_width=pooled[1], spatial_scale=scale, sampling_ratio=max(sampling_ratio, 0),
        mode=mode, coordinate_transformation_mode="half_pixel" if aligned else "output_half_pixel")
    return _session(node, [("X", TensorProto.FLOAT), ("rois", TensorProto.FLOAT),
                           ("batch_indices", TensorProto.INT64)])


def run_ort_pool(x, boxes, pooled, scale):
    return ort_roi_pool(pooled, scale).run(None, {"X": x, "rois": boxes})[0]


def run_ort_align(x, boxes, pooled, scale, sampling_ratio, aligned, mode="avg"):
    return ort_roi_align(pooled, scale, sampling_ratio, aligned, mode).run(
        None, {"X": x, "rois": boxes[:, 1:], "batch_indices": boxes[:, 0].astype(np.int64)})[0]


# ----------------------------------------------------------------------------- slow loops


def c_round(v):
    """C's round(): halves away from zero."""
    return int(floor(abs(v) + 0.5)) * (1 if v >= 0 else -1)


def torchvision_roi_pool_loop(x, boxes, pooled, scale):
    """torchvision's roi_pool_forward_kernel_impl, line by line (in x's dtype)."""
    t = x.dtype.type
    n_rois, (_, c, h, w) = len(boxes), x.shape
    out = np.zeros((n_rois, c, *pooled), dtype=x.dtype)
    for k, (b, x1, y1, x2, y2) in enumerate(boxes.astype(x.dtype)):
        start_w, start_h = c_round(t(x1) * t(scale)), c_round(t(y1) * t(scale))
        end_w, end_h = c_round(t(x2) * t(scale)), c_round(t(y2) * t(scale))
        roi_w, roi_h = max(end_w - start_w + 1, 1), max(end_h - start_h + 1, 1)
        bin_h, bin_w = t(roi_h) / t(pooled[0]), t(roi_w) / t(pooled[1])
        for ph in range(pooled[0]):
            for pw in range(pooled[1]):
                hs = min(max(int(np.floor(t(ph) * bin_h)) + start_h, 0), h)
                he = min(max(int(np.ceil(t(ph + 1) * bin_h)) + start_h, 0), h)
                ws = min(max(int(np.floor(t(pw) * bin_w)) + start_w, 0), w)
                we = min(max(int(np.ceil(t(pw + 1) * bin_w)) + start_w, 0), w)
                empty = he <= hs or we <= ws
                for ch in range(c):
                    best = t(0) if empty else t(-np.finfo(np.float32).max)
                    for yy in range(hs, he):
                        for xx in range(ws, we):
                            if x[int(b), ch, yy, xx] > best:
                                best = x[int(b), ch, yy, xx]
                    out[k, ch, ph, pw] = best
    return out


def torchvision_roi_align_loop(xt, boxes, pooled, scale, sampling_ratio, aligned):
    """torchvision's roi_align_forward_kernel_impl + pre_calc_for_bilinear_interpolate, in
    float64 torch ops so that autograd gives its backward."""
    _, c, h, w = xt.shape
    out = []
    for b, x1, y1, x2, y2 in boxes.tolist():
        offset = 0.5 if aligned else 0.0
        start_w, start_h = x1 * scale - offset, y1 * scale - offset
        roi_w, roi_h = x2 * scale - offset - start_w, y2 * scale - offset - start_h
        if not aligned:
            roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
        bin_h, bin_w = roi_h / pooled[0], roi_w / pooled[1]
        grid_h = sampling_ratio if sampling_ratio > 0 else ceil(roi_h / pooled[0])
        grid_w = sampling_ratio if sampling_ratio > 0 else ceil(roi_w / pooled[1])
        count = max(grid_h * grid_w, 1)
        bins = []
        for ph in range(pooled[0]):
            for pw in range(pooled[1]):
                total = torch.zeros(c, dtype=xt.dtype)
                for iy in range(grid_h):
                    y = start_h + ph * bin_h + (iy + 0.5) * bin_h / grid_h
                    for ix in range(grid_w):
                        xx = start_w + pw * bin_w + (ix + 0.5) * bin_w / grid_w
                        if not (-1.0 <= y <= h and -1.0 <= xx <= w):
                            continue
                        yc, xc = max(y, 0.0), max(xx, 0.0)
                        y_low, x_low = int(yc), int(xc)
                        if y_low >= h - 1:
                            y_low = y_high = h - 1
                            yc = float(y_low)
                        else:
                            y_high = y_low + 1
                        if x_low >= w - 1:
                            x_low = x_high = w - 1
                            xc = float(x_low)
                        else:
                            x_high = x_low + 1
                        ly, lx = yc - y_low, xc - x_low
                        hy, hx = 1 - ly, 1 - lx
                        plane = xt[int(b)]
                        total = total + hy * hx * plane[:, y_low, x_low] \
                            + hy * lx * plane[:, y_low, x_high] \
                            + ly * hx * plane[:, y_high, x_low] + ly * lx * plane[:, y_high, x_high]
                bins.append(total / count)
        out.append(torch.stack(bins, dim=1).reshape(c, *pooled))
    return torch.stack(out)


# ----------------------------------------------------------------------------- cases


def random_case(seed, *, dtype=np.float32, positive=True, small=False):
    rng = np.random.default_rng(seed)
    n, c = int(rng.integers(1, 3)), int(rng.integers(1, 4))
    h, w = (int(v) for v in rng.integers(1, 10 if small else 24, size=2))
    scale = float(rng.choice([1.0, 0.5, 0.25, 1 / 3, 2.0]))
    boxes = []
    while len(boxes) < int(rng.integers(1, 3 if small else 6)):
        x1, y1 = rng.uniform(-3, w / scale + 2), rng.uniform(-3, h / scale + 2)
        kind = rng.integers(4)
        size_w, size_h = ((0.0, 0.0) if kind == 0 else rng.uniform(0, 2, 2) if kind == 1
                          else rng.uniform(0, 1.5, 2) * np.array([w, h]) / scale)
        x2, y2 = x1 + size_w, y1 + size_h
        if x2 * scale < 0 or y2 * scale < 0 or x1 * scale > w or y1 * scale > h:
            continue  # outside the map: rejected, as the validation tests check
        boxes.append([int(rng.integers(n)), x1, y1, x2, y2])
    boxes = np.array(boxes, dtype=dtype)
    x = (rng.uniform(0.1, 1.0, (n, c, h, w)) if positive
         else rng.standard_normal((n, c, h, w))).astype(dtype)
    pooled = (int(rng.integers(1, 4 if small else 6)), int(rng.integers(1, 4 if small else 6)))
    return rng, x, boxes, pooled, scale


# ----------------------------------------------------------------------------- ROI pool


@pytest.mark.parametrize("seed", range(N_CASES))
def test_roi_pool_equals_onnxruntime(seed):
    """Oracle: onnxruntime's MaxRoiPool, on values of both signs and -inf (where it
    agrees with torchvision: all but NaN)."""
    rng, x, boxes, pooled, scale = random_case(seed, positive=False)
    x[rng.random(x.shape) < 0.05] = -np.inf
    np.testing.assert_array_equal(roi_pool(x, boxes, pooled, scale),
                                  run_ort_pool(x, boxes, pooled, scale))


@pytest.mark.parametrize("seed", range(N_CASES))
def test_roi_pool_equals_torchvision_rule_on_any_values(seed):
    """Oracle: the slow loop of torchvision's kernel, for negative values, -inf and NaN,
    float32 and float64 (onnxruntime differs on negative bins, and has no float64)."""
    dtype = (np.float32, np.float64)[seed % 2]
    rng, x, boxes, pooled, scale = random_case(1000 + seed, dtype=dtype, positive=False)
    x[rng.random(x.shape) < 0.05] = -np.inf
    x[rng.random(x.shape) < 0.05] = np.nan
    np.testing.assert_array_equal(roi_pool(x, boxes, pooled, scale),
                                  torchvision_roi_pool_loop(x, boxes, pooled, scale))


def test_onnxruntime_roi_pool_differs_only_where_a_nan_comes_last():
    """The known difference, shown: torchvision's ``value > max`` never lets NaN win (and
    roi_pool follows it); onnxruntime's ``std::max(value, max)`` keeps a NaN until the
    next cell replaces it, so a bin whose last cell is NaN gives NaN there."""
    x = np.array([[[[1, 2], [3, np.nan]]]], dtype=np.float32)
    boxes = np.array([[0, 0, 0, 1, 1]], dtype=np.float32)
    assert roi_pool(x, boxes, 1)[0, 0, 0, 0] == 3
    assert torchvision_roi_pool_loop(x, boxes, (1, 1), 1.0)[0, 0, 0, 0] == 3
    assert np.isnan(run_ort_pool(x, boxes, (1, 1), 1.0)[0, 0, 0, 0])
    x[0, 0, 0, 0], x[0, 0, 1, 1] = np.nan, 0.5        # a NaN first is replaced: they agree
    assert run_ort_pool(x, boxes, (1, 1), 1.0)[0, 0, 0, 0] == roi_pool(x, boxes, 1)[0, 0, 0, 0]


def test_roi_pool_rounds_halves_away_from_zero():
    """Box x1 = 2.5 snaps to column 3 (C's round), not 2 (numpy's round-half-even)."""
    x = np.arange(36, dtype=np.float32).reshape(1, 1, 6, 6)
    bins = roi_pool_bins(x.shape, [[0, 2.5, 0.5, 2.5, 0.5]], 1)
    assert bins.cols[0].tolist() == [[3, 4]] and bins.rows[0].tolist() == [[1, 2]]
    assert roi_pool(x, [[0, 2.5, 0.5, 2.5, 0.5]], 1)[0, 0, 0, 0] == 9.0
    assert run_ort_pool(x, np.array([[0, 2.5, 0.5, 2.5, 0.5]], np.float32), (1, 1), 1.0) == 9.0


# ----------------------------------------------------------------------------- ROI align


@pytest.mark.parametrize("seed", range(N_CASES))
def test_roi_align_equals_onnxruntime(seed):
    """Oracle: onnxruntime's RoiAlign (opset 16), avg and max, both alignments, sampling
    ratios -1 (ONNX 0), 1, 2 and 3. float32; ~1e-6 is float32 rounding in another order."""
    rng, x, boxes, pooled, scale = random_case(2000 + seed)
    for sampling_ratio in (-1, 1, 2, 3):
        for aligned in (False, True):
            want = run_ort_align(x, boxes, pooled, scale, sampling_ratio, aligned)
            got = roi_align(x, boxes, pooled, scale, sampling_ratio, aligned)
            assert got.dtype == np.float32
            np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-6)
            signed = (x - 0.55).astype(np.float32)  # max mode: both signs of v
            want = run_ort_align(signed, boxes, pooled, scale, sampling_ratio, aligned, "max")
            got = roi_align(signed, boxes, pooled, scale, sampling_ratio, aligned, mode="max")
            np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("seed", range(25))
def test_roi_align_and_backward_equal_torchvision_rule_in_float64(seed):
    """Oracle: the slow loop of torchvision's kernel in torch float64; the backward by
    autograd through it."""
    rng, x, boxes, pooled, scale = random_case(3000 + seed, dtype=np.float64, positive=False,
                                               small=True)
    sampling_ratio, aligned = int(rng.choice([-1, 0, 1, 2])), bool(seed % 2)
    xt = torch.tensor(x, requires_grad=True)
    want = torchvision_roi_align_loop(xt, boxes, pooled, scale, sampling_ratio, aligned)
    got = roi_align(x, boxes, pooled, scale, sampling_ratio, aligned)
    np.testing.assert_allclose(got, want.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(want.shape)
    grad = roi_align_backward(g, x, boxes, pooled, scale, sampling_ratio, aligned)
    if not want.requires_grad:  # every sample outside the map: nothing reads x
        assert not grad.any()
        return
    want.backward(torch.tensor(g))
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_aligned_true_reads_the_cell_under_each_sample():
    """aligned=True: a box over whole cells, one sample per cell, returns those cells."""
    x = np.random.default_rng(1).standard_normal((1, 2, 6, 8))
    got = roi_align(x, [[0, 2, 1, 6, 4]], (3, 4), sampling_ratio=1, aligned=True)
    np.testing.assert_allclose(got[0], x[0, :, 1:4, 2:6], rtol=1e-12)
    shifted = roi_align(x, [[0, 2, 1, 6, 4]], (3, 4), sampling_ratio=1)  # half a cell off
    assert not np.allclose(shifted[0], x[0, :, 1:4, 2:6])


def test_chunks_and_row_bands_change_nothing(monkeypatch):
    """Tiny CHUNK_CELLS: every box its own chunk, rows in bands of one; same numbers."""
    _, x, boxes, pooled, scale = random_case(7, positive=False)
    want = [roi_pool(x, boxes, pooled, scale), roi_align(x, boxes, pooled, scale),
            roi_align(x, boxes, pooled, scale, 2, True, mode="max"),
            roi_align_backward(np.ones((len(boxes), x.shape[1], *pooled)), x, boxes, pooled,
                               scale)]
    monkeypatch.setattr(roi_module, "CHUNK_CELLS", 8)
    got = [roi_pool(x, boxes, pooled, scale), roi_align(x, boxes, pooled, scale),
           roi_align(x, boxes, pooled, scale, 2, True, mode="max"),
           roi_align_backward(np.ones((len(boxes), x.shape[1], *pooled)), x, boxes, pooled,
                              scale)]
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_boxes_as_a_list_per_image_equal_the_k_by_5_form():
    x = np.random.default_rng(2).standard_normal((2, 3, 10, 12))
    per_image = [np.array([[1, 1, 6, 7.5], [0, 0, 11, 9]]), np.array([[2.2, 3, 5, 5]])]
    rows = np.array([[0, 1, 1, 6, 7.5], [0, 0, 0, 11, 9], [1, 2.2, 3, 5, 5]])
    np.testing.assert_array_equal(roi_align(x, per_image, 2), roi_align(x, rows, 2))
    np.testing.assert_array_equal(roi_pool(x, per_image, 2), roi_pool(x, rows, 2))


def test_samples_and_bins_for_drawing():
    s = roi_align_samples((1, 1, 20, 20), [[0, 1, 2, 9, 6], [0, 0, 0, 19, 19]], 2)
    assert s.grid.tolist() == [[2, 4], [10, 10]]            # ceil(bin size), box by box
    assert s.y.shape == (2, 2, 10) and np.isnan(s.y[0, :, 2:]).all()
    inside = s.y[0][:, :2]
    assert np.all((inside > 2) & (inside < 6))
    np.testing.assert_allclose(np.diff(s.x[0, 0, :4]), 1.0)   # 4 samples in a 4-cell bin
    bins = roi_pool_bins((1, 1, 20, 20), [[0, 1, 2, 9, 6]], (2, 3))
    assert bins.rows[0].tolist() == [[2, 5], [4, 7]]            # floor/ceil of 5 cells / 2
    assert bins.cols[0].tolist() == [[1, 4], [4, 7], [7, 10]]
    assert not bins.empty.any()


@pytest.mark.parametrize("call, match", [
    (lambda: roi_pool(np.zeros((1, 4, 4)), [[0, 0, 0, 1, 1]], 2), "shaped \\(N, C, H, W\\)"),
    (lambda: roi_pool(np.zeros((1, 1, 4, 4)), [[0, 0, 0, 1]], 2), "boxes has shape"),
    (lambda: roi_pool(np.zeros((1, 1, 4, 4)), [[1, 0, 0, 1, 1]], 2), "batch index 1;"),
    (lambda: roi_pool(np.zeros((1, 1, 4, 4)), [[0.5, 0, 0, 1, 1]], 2), "batch index 0.5"),
    (lambda: roi_pool(np.zeros((1, 1, 4, 4)), [[0, 3, 0, 1, 1]], 2), "x2 < x1"),
    (lambda: roi_pool(np.zeros((1, 1, 4, 4)), [[0, 0, 3, 1, 1]], 2), "y2 < y1"),
    (lambda: roi_pool(np.zeros((1, 1, 4, 4)), [[0, 5, 0, 9, 1]], 2), "outside the 4x4"),
    (lambda: roi_pool(np.zeros((1, 1, 4, 4)), [[0, 0, 0, 8, 8]], 2, 0.0),
     "spatial_scale=0.0 must be positive"),
    (lambda: roi_pool(np.zeros((1, 1, 4, 4)), [[0, 0, np.nan, 1, 1]], 2), "finite"),
    (lambda: roi_align(np.zeros((1, 1, 4, 4)), [[0, 0, 0, 1, 1]], 0), "output_size=0"),
    (lambda: roi_align(np.zeros((1, 1, 4, 4)), [[0, 0, 0, 1, 1]], 2, sampling_ratio=-2),
     "sampling_ratio=-2"),
    (lambda: roi_align(np.zeros((1, 1, 4, 4)), [[0, 0, 0, 1, 1]], 2, mode="sum"), "mode='sum'"),
    (lambda: roi_align(np.zeros((1, 1, 4, 4)), [[0, 0, 0, 1, 1]], 2, aligned=2), "aligned=2"),
    (lambda: roi_align_backward(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 4, 4)),
                                [[0, 0, 0, 1, 1]], 2), "grad_output has shape"),
])
def test_bad_arguments_raise_naming_the_rule(call, match):
    with pytest.raises(ValueError, match=match):
        call()
