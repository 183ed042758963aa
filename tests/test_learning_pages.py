"""The learning pages (backprop, pooling vs strided conv, 1-D/3-D/adaptive): AppTest through
app.py, plus their figure builders and pure helpers tested directly."""
import base64
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from helpers import small_geometries
from pooling_core import (adaptive_bins, adaptive_pool2d, plan_axes, pool1d, pool2d,
                          pool2d_backward, pool3d, unpool2d)
from ui import figures, lessons, parsing, widgets
from ui.pool_settings import PoolSettings

APP = str(ROOT / "app.py")




def plotly_array(value):
    """A Plotly JSON array, plain or base64-typed (``{"bdata", "dtype", "shape"}``)."""
    if isinstance(value, dict) and "bdata" in value:
        shape = [int(n) for n in str(value.get("shape", "-1")).split(",")]
        return np.frombuffer(base64.b64decode(value["bdata"]), value["dtype"]).reshape(shape)
    return np.array(value, dtype=float)


def generic(shape, seed=0):
    """Distinct positive floats: no ties, no zeros (lp's gradient is x**(p-1))."""
    return np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) + 1.5


geometries = small_geometries()
MODES = ["max", "min", "avg", "sum", "lp", "median", "stochastic"]


def make_kwargs(geom, mode):
    kw = dict(geom, mode=mode)
    kw["padding"] = tuple(min(p, k // 2) for p, k in zip(kw["padding"], kw["kernel_size"]))
    if mode == "stochastic":
        kw["rng"] = 3
    if mode == "lp":
        kw["p"] = 3.0
    return kw


# ================================================================== backprop figure builders


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(geom=geometries, mode=st.sampled_from(MODES), h=st.integers(3, 7), w=st.integers(3, 7),
       seed=st.integers(0, 50))
def test_backward_frames_light_exactly_the_cells_that_get_gradient(geom, mode, h, w, seed):
    kw = make_kwargs(geom, mode)
    x = generic((h, w), seed)
    try:
        out = pool2d(x, **kw)
    except ValueError:
        return  # geometry the core rejects (window larger than input + padding)
    g = np.random.default_rng(seed).normal(size=out.shape)
    expected = pool2d_backward(g, x, **kw)
    # its frames are plain dicts: read them as Plotly validates them
    fig = go.Figure(figures.backward_figure(x, kw, g).to_dict())
    lit = np.zeros(x.shape, dtype=bool)
    for frame in fig.frames:
        for shape in frame.layout.shapes:
            if shape.line.color == figures.CHOSEN_COLOR and shape.xref == "x":
                lit[round((shape.y0 + shape.y1) / 2), round((shape.x0 + shape.x1) / 2)] = True
    assert np.array_equal(lit, expected != 0)
    # the last frame's left panel is the whole gradient
    last = fig.frames[-1].data[0]
    rows, cols = np.asarray(last.y), np.asarray(last.x)
    z = plotly_array(last.z) if isinstance(last.z, dict) else np.asarray(last.z, dtype=float)
    real = z[np.ix_((rows >= 0) & (rows < h), (cols >= 0) & (cols < w))]
    np.testing.assert_allclose(real, expected, atol=1e-12)


def test_backward_steps_sum_to_pool2d_backward_and_follow_the_forward_order():
    x = generic((6, 6))
    kw = dict(kernel_size=3, stride=2, padding=1, mode="avg", count_include_pad=True)
    g = np.arange(9.0).reshape(3, 3) - 4
    steps = figures.backward_steps(x, kw, g)
    assert [s.index for s in steps] == [(i, j) for i in range(3) for j in range(3)]
    total = np.zeros(x.shape)
    for s in steps:
        np.add.at(total, (s.cells[:, 0], s.cells[:, 1]), s.amounts)
    np.testing.assert_allclose(total, pool2d_backward(g, x, **kw))
    assert steps[4].grad == 0 and "nothing flows back" in steps[4].caption
    # corner window: 4 real cells of 9 (count_include_pad): each gets g / 9
    assert "gets -4 / 9 = -0.444" in steps[0].caption and "5 padded" in steps[0].caption


def test_backward_caption_names_the_rule():
    x = np.array([[1.0, 3.0], [4.0, 2.0]])
    g = np.ones((1, 1))
    (s,) = figures.backward_steps(x, dict(kernel_size=2, mode="max"), g)
    assert s.caption == "∂L/∂out[0, 0] = 1 → all of it to x[1, 0], the maximum of the window"
    (s,) = figures.backward_steps(x, dict(kernel_size=2, mode="avg"), g)
    assert "each of the 4 cells gets 1 / 4 = 0.25" in s.caption
    (s,) = figures.backward_steps(x, dict(kernel_size=2, mode="lp", p=2.0), g)
    assert "(x/out)^(p−1)" in s.caption


def test_unpool_figure_is_the_sparse_map_of_the_max_indices():
    x = generic((6, 6))
    kw = dict(kernel_size=2, mode="max")
    fig = figures.unpool_figure(x, kw)
    values, idx = pool2d(x, return_indices=True, **kw)
    sparse = unpool2d(values, idx, x.shape)
    shown = np.asarray(fig.data[3].z, dtype=float)  # the unpooled values over the zero layer
    assert np.array_equal(~np.isnan(shown), sparse != 0)
    np.testing.assert_array_equal(shown[sparse != 0], sparse[sparse != 0])
    outlined = {(round((s.y0 + s.y1) / 2), round((s.x0 + s.x1) / 2)) for s in fig.layout.shapes}
    assert outlined == {divmod(int(i), 6) for i in idx.ravel()}


# ================================================================== backprop helpers


def test_numeric_gradient_of_known_functions():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    g = np.array([[2.0, 1.0], [1.0, -1.0]])
    np.testing.assert_allclose(lessons.numeric_gradient(lambda a: a ** 2, x, g), 2 * x * g, atol=1e-8)
    np.testing.assert_allclose(lessons.numeric_gradient(lambda a: a ** 2, x, g, batched=False),
                               2 * x * g, atol=1e-8)
    # a function that sums the plane: every cell gets the whole (single) upstream gradient
    total = lambda a: a.sum(axis=(-2, -1), keepdims=True)  # noqa: E731
    np.testing.assert_allclose(lessons.numeric_gradient(total, x, np.full((1, 1), 3.0)),
                               np.full(x.shape, 3.0), atol=1e-8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(geom=geometries, mode=st.sampled_from(MODES), h=st.integers(2, 7), w=st.integers(2, 7),
       seed=st.integers(0, 99))
def test_gradient_check_passes_on_tie_broken_integer_inputs(geom, mode, h, w, seed):
    kw = make_kwargs(geom, mode)
    x = lessons.tie_break(widgets.random_matrix(h, w, seed), seed)
    try:
        out = pool2d(x, **kw)
    except ValueError:
        return
    if not np.isfinite(out).all():
        return  # a window of padding only: max is -inf there, no gradient to check
    g = lessons.upstream_gradient("random", out.shape, seed)
    result = lessons.gradient_check(x, g, kw)
    assert result.ok, (result.max_abs, result.analytic, result.numeric)


def test_gradient_check_fails_at_a_tie_and_the_estimate_splits_it():
    x = np.array([[5.0, 5.0], [1.0, 2.0]])
    result = lessons.gradient_check(x, np.ones((1, 1)), dict(kernel_size=2, mode="max"))
    assert not result.ok
    np.testing.assert_allclose(result.numeric, [[0.5, 0.5], [0, 0]], atol=1e-9)
    np.testing.assert_allclose(result.analytic, [[1, 0], [0, 0]])
    assert lessons.tied_windows(x, dict(kernel_size=2, mode="max")) == 1
    assert lessons.tied_windows(lessons.tie_break(x), dict(kernel_size=2, mode="max")) == 0


@given(st.lists(st.integers(-5, 5), min_size=1, max_size=60), st.integers(0, 9))
def test_tie_break_keeps_order_and_separates_values(values, seed):
    x = np.array(values, dtype=float)
    y = lessons.tie_break(x, seed)
    assert len(np.unique(y)) == y.size
    assert np.all(np.diff(np.sort(y)) > 10 * lessons.FD_STEP)
    bigger = x[:, None] > x[None, :]
    assert np.all((y[:, None] > y[None, :])[bigger])
    distinct = np.unique(x)
    gap = np.diff(distinct).min() if distinct.size > 1 else 1.0
    assert np.all((y - x > 0) & (y - x < gap / 2))


def test_caffe_max_padding_keeps_indices_backward_and_unpooling():
    x = np.arange(16.0).reshape(4, 4)
    caffe = dict(kernel_size=3, stride=2, padding=1, mode="max", pad_value=-3.4e38,
                 check_half_kernel=False)
    plain = dict(kernel_size=3, stride=2, padding=1, mode="max")
    np.testing.assert_array_equal(pool2d(x, return_indices=True, **caffe)[1],
                                  pool2d(x, return_indices=True, **plain)[1])
    np.testing.assert_array_equal(pool2d_backward(np.ones((2, 2)), x, **caffe),
                                  pool2d_backward(np.ones((2, 2)), x, **plain))
    fig = figures.unpool_figure(x, caffe)
    assert fig.data, "the unpooling map draws with Caffe's padding value"


def test_upstream_gradients():
    assert np.array_equal(lessons.upstream_gradient("ones", (2, 3)), np.ones((2, 3)))
    hot = lessons.upstream_gradient("hot", (2, 3), hot=(1, 2))
    assert hot.sum() == 1 and hot[1, 2] == 1
    r = lessons.upstream_gradient("random", (4, 4), seed=1)
    assert np.array_equal(r, lessons.upstream_gradient("random", (4, 4), seed=1))
    assert np.array_equal(r, np.round(r, 1))


# ================================================================== pooling vs strided conv


torch = pytest.importorskip("torch")
F = torch.nn.functional


@settings(max_examples=80, deadline=None)
@given(h=st.integers(1, 9), w=st.integers(1, 9), kh=st.integers(1, 4), kw=st.integers(1, 4),
       sh=st.integers(1, 3), sw=st.integers(1, 3), ph=st.integers(0, 2), pw=st.integers(0, 2),
       dh=st.integers(1, 2), dw=st.integers(1, 2), seed=st.integers(0, 99))
def test_strided_conv_matches_torch_conv2d(h, w, kh, kw, sh, sw, ph, pw, dh, dw, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, h, w))
    k = rng.normal(size=(kh, kw))
    try:
        ours = lessons.strided_conv2d(x, k, stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw),
                                 check_half_kernel=False)
    except ValueError:
        with pytest.raises(RuntimeError):
            F.conv2d(torch.tensor(x[:, None]), torch.tensor(k[None, None]), stride=(sh, sw),
                     padding=(ph, pw), dilation=(dh, dw))
        return
    ref = F.conv2d(torch.tensor(x[:, None]), torch.tensor(k[None, None]), stride=(sh, sw),
                   padding=(ph, pw), dilation=(dh, dw))[:, 0].numpy()
    np.testing.assert_allclose(ours, ref, atol=1e-10)


@pytest.mark.parametrize("n,k,s", [(6, 3, 2), (7, 2, 2), (5, 3, 1), (8, 3, 3)])
def test_strided_conv_same_padding_matches_torch_with_explicit_pads(n, k, s):
    x = generic((n, n)).astype(float)
    w = np.arange(k * k, dtype=float).reshape(k, k) - 2
    (p,) = plan_axes((n,), k, s, "same")
    ref = F.conv2d(F.pad(torch.tensor(x)[None, None], (p.pad_before, p.pad_after) * 1 +
                         (p.pad_before, p.pad_after)), torch.tensor(w)[None, None], stride=s)
    np.testing.assert_allclose(lessons.strided_conv2d(x, w, stride=s, padding="same"),
                               ref[0, 0].numpy(), atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(geom=geometries, h=st.integers(3, 8), w=st.integers(3, 8), seed=st.integers(0, 9))
def test_averaging_kernel_is_average_pooling_with_padding_counted(geom, h, w, seed):
    kw = make_kwargs(dict(geom, ceil_mode=False, count_include_pad=True), "avg")
    x = generic((h, w), seed)
    try:
        avg = pool2d(x, **kw)
    except ValueError:
        return
    kernel = lessons.kernel_preset("avg", kw["kernel_size"])
    geometry = {k: v for k, v in kw.items() if k in ("stride", "padding", "dilation")}
    conv = lessons.strided_conv2d(x, kernel, **geometry)
    assert conv.shape == avg.shape  # the same formula
    np.testing.assert_allclose(conv, avg, atol=1e-12)


def test_kernel_presets():
    np.testing.assert_array_equal(lessons.kernel_preset("edge", (3, 3)),
                                  [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(lessons.kernel_preset("edge", (2, 2)), [[-1, 1], [-1, 1]])
    assert lessons.kernel_preset("avg", (2, 3)).sum() == pytest.approx(1)
    r = lessons.kernel_preset("random", (3, 3), 4)
    assert np.array_equal(r, lessons.kernel_preset("random", (3, 3), 4))
    assert not np.array_equal(r, lessons.kernel_preset("random", (3, 3), 5))


def test_parse_kernel():
    np.testing.assert_array_equal(lessons.parse_kernel("1,0,-1; 2,0,-2; 1,0,-1"),
                                  [[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    np.testing.assert_allclose(lessons.parse_kernel("1/4 1/4\n.25, 2.5e-1"), np.full((2, 2), 0.25))
    with pytest.raises(ValueError, match=r"Row 2, value 3: 'x' is not a number"):
        lessons.parse_kernel("1,2,3; 4,5,x")
    with pytest.raises(ValueError, match="different lengths"):
        lessons.parse_kernel("1,2; 3")
    with pytest.raises(ValueError, match="empty"):
        lessons.parse_kernel(" ; ")
    with pytest.raises(ValueError, match=r"typed kernel is 3×3 but the sidebar's kernel size is 2×2"):
        lessons.parse_kernel("1,0,-1; 2,0,-2; 1,0,-1", (2, 2))
    with pytest.raises(ValueError, match="not a number"):
        lessons.parse_kernel("1/0/2")
    with pytest.raises(ValueError, match="divides by zero"):
        lessons.parse_kernel("1/0")
    with pytest.raises(ValueError, match="finite"):
        lessons.parse_kernel("1e999")


def test_layer_costs_in_plain_numbers():
    c = lessons.layer_costs(112, 112, 64, (2, 2), (56, 56))
    assert c["pool_params"] == 0
    assert c["conv_params"] == 2 * 2 * 64 * 64 + 64 == 16_448
    assert c["strided_bytes"] == 56 * 56 * 64 * 4
    assert c["pipeline_bytes"] == (112 * 112 * 64 + 56 * 56 * 64) * 4
    assert c["pipeline_macs"] == 4 * c["strided_macs"]
    assert lessons.human_bytes(512) == "512 B" and lessons.human_bytes(3 * 1024 ** 2) == "3.00 MiB"


def test_conv_steps_caption_the_weighted_sum():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = np.array([[1.0, 0.0], [0.0, -1.0]])
    conv = lessons.strided_conv2d(x, w)
    (step,) = lessons.conv_steps(x, dict(kernel_size=(2, 2)), w, conv)
    assert step.caption == "out[0, 0] = Σ w·x = 1·1 + 0·2 + 0·3 + -1·4 = -3"
    assert step.chosen is None


def test_panels_figure_draws_cells_of_one_size():
    fig = figures.panels_figure([dict(values=np.zeros((6, 6)), title="in"),
                                 dict(values=np.zeros((3, 3)), title="out", signed=True)])
    widths = [fig.layout.xaxis.domain[1] - fig.layout.xaxis.domain[0],
              fig.layout.xaxis2.domain[1] - fig.layout.xaxis2.domain[0]]
    assert widths[0] == pytest.approx(2 * widths[1])
    assert list(fig.layout.yaxis2.range) == [5.5, -0.5]  # both panels span 6 rows


# ================================================================== 1-D, 3-D, adaptive helpers


def test_nd_pool_kwargs_use_the_height_values():
    s = PoolSettings(kernel=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2))
    kw = lessons.nd_pool_kwargs(s, (10,))
    assert kw["kernel_size"] == (3,) and kw["stride"] == (2,) and kw["padding"] == (1,)
    assert kw["dilation"] == (1,)
    kw3 = lessons.nd_pool_kwargs(s, (8, 6, 7))
    assert kw3["kernel_size"] == (3, 3, 3) and kw3["padding"] == (1, 1, 1)
    same = lessons.nd_pool_kwargs(PoolSettings(kernel=(3, 3), stride=(2, 2), padding="same",
                                            framework="tensorflow"), (7, 8, 9))
    assert same["padding"] == "same"
    glob = lessons.nd_pool_kwargs(PoolSettings(global_pool=True), (5, 6, 7))
    assert glob["kernel_size"] == (5, 6, 7)
    assert pool3d(np.ones((5, 6, 7)), **glob).shape == (1, 1, 1)
    with pytest.raises(ValueError, match="padding"):
        lessons.nd_pool_kwargs(PoolSettings(kernel=(2, 2), padding=(2, 2)), (8,))


@pytest.mark.parametrize("kernel,stride,padding,dilation,ceil", [
    (2, 2, 0, 1, False), (3, 2, 1, 1, True), (3, 1, 1, 2, False), (4, 3, 2, 1, True)])
def test_nd_kwargs_give_torch_numbers_in_1d_and_3d(kernel, stride, padding, dilation, ceil):
    s = PoolSettings(kernel=(kernel, kernel), stride=(stride, stride), padding=(padding, padding),
                     dilation=(dilation, dilation), ceil_mode=ceil)
    x1 = lessons.make_signal("sine", 23, 1)
    ref1 = F.max_pool1d(torch.tensor(x1)[None], kernel, stride, padding, dilation, ceil_mode=ceil)
    np.testing.assert_allclose(pool1d(x1, **lessons.nd_pool_kwargs(s, x1.shape)), ref1[0].numpy())
    v = lessons.make_volume((7, 8, 9), 2)
    ref3 = F.max_pool3d(torch.tensor(v)[None], kernel, stride, padding, dilation, ceil_mode=ceil)
    np.testing.assert_allclose(pool3d(v, **lessons.nd_pool_kwargs(s, v.shape)), ref3[0].numpy())


def test_signals_volumes_and_parsing():
    for kind in ("sine", "steps"):
        x = lessons.make_signal(kind, 30, 3)
        assert x.shape == (30,) and np.array_equal(x, lessons.make_signal(kind, 30, 3))
    assert len(np.unique(lessons.make_signal("steps", 30, 3))) <= 5
    v = lessons.make_volume((8, 8, 8), 0)
    assert v.shape == (8, 8, 8) and v.min() >= 0 and v.max() > 5
    np.testing.assert_array_equal(parsing.parse_numbers("1, 2;3\n4  -5e-1"), [1, 2, 3, 4, -0.5])
    with pytest.raises(ValueError, match=r"Value 3: 'abc' is not a number"):
        parsing.parse_numbers("1, 2, abc, 4")
    with pytest.raises(ValueError, match="No numbers"):
        parsing.parse_numbers("  ")
    assert lessons.fixed_equivalent((6, 8), (3, 4)) == ((2, 2), (2, 2))
    assert lessons.fixed_equivalent((7, 8), (3, 4)) is None


def test_signal_figure_frames_follow_the_windows():
    x = lessons.make_signal("sine", 12, 0)
    kw = dict(kernel_size=3, stride=2, padding=1, mode="max")
    fig = figures.signal_figure(x, kw)
    (plan,) = plan_axes(x.shape, 3, 2, 1)
    out = pool1d(x, **kw)
    assert len(fig.frames) == plan.out + 1  # "all", then one per window
    centres = fig.frames[0].data[1]  # the whole result first
    np.testing.assert_allclose(np.asarray(centres.y, dtype=float), out)
    for t in range(plan.out):
        windows = [s for s in fig.frames[t + 1].layout.shapes if s.fillcolor == figures.WINDOW_COLOR]
        assert [round((s.x0 + s.x1) / 2) for s in windows] == plan.taps[t].tolist()
        star = fig.frames[t + 1].data[2]
        assert x[int(star.x[0])] == out[t]
        assert fig.frames[t + 1].layout.title.text.startswith(f"out[{t}] = max(")


def test_volume_slices_figure_frames_the_slices_the_window_reads():
    v = lessons.make_volume((6, 6, 6), 1)
    kw = dict(kernel_size=(3, 2, 2), stride=(2, 2, 2), padding=(1, 0, 0))
    fig = figures.volume_slices_figure(v, kw, (1, 2, 0))
    framed = sorted(int(s.xref.split()[0][1:] or 1) - 1 for s in fig.layout.shapes
                    if s.xref.endswith("domain"))
    assert framed == [1, 2, 3]  # output slice 1 reads depth taps 1..3
    out = pool3d(v, **kw)
    assert fig.layout.title.text.endswith(figures.fmt(out[1, 2, 0]))
    assert len([t for t in fig.data if t.name.startswith("out[")]) == out.shape[0]
    pts = figures.volume_scatter_figure(v, kw)
    np.testing.assert_allclose(np.asarray(pts.data[1].marker.color, dtype=float), out.ravel())


@pytest.mark.parametrize("shape,size", [((7, 7), (3, 3)), ((5, 9), (2, 4)), ((4, 6), (1, 1))])
def test_adaptive_figure_fills_each_bin(shape, size):
    x = generic(shape)
    fig = figures.adaptive_figure(x, size, "avg")
    assert len(fig.frames) == size[0] * size[1]
    (r0, r1), (c0, c1) = adaptive_bins(shape[0], size[0]), adaptive_bins(shape[1], size[1])
    for t, frame in enumerate(fig.frames):
        i, j = divmod(t, size[1])
        (fill,) = [s for s in frame.layout.shapes if s.type == "rect" and s.xref == "x"]
        assert (fill.y0 + 0.5, fill.y1 + 0.5, fill.x0 + 0.5, fill.x1 + 0.5) == (r0[i], r1[i],
                                                                                c0[j], c1[j])
    np.testing.assert_allclose(np.asarray(fig.data[1].z, dtype=float),
                               adaptive_pool2d(x, size, "avg"))


# ================================================================== the pages through app.py


def open_page(page, **query):
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page(f"pages/{page}.py")
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    assert at.slider(key="kh"), "the shared sidebar is missing"
    return at


def charts(at):
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def errors(at):
    return [e.value for e in at.error]


def text(at):
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption] +
                    [i.value for i in at.info] + [w.value for w in at.warning])


# ---------------------------------------------------------------- backprop


def backward_spec(at):
    return next(s for s in charts(at) if s["layout"].get("title", {}).get("text", "")
                .startswith("∂L/∂out["))


def test_backprop_default_view_and_check():
    at = open_page("backprop")
    assert at.title[0].value.endswith("Backprop & unpooling")
    assert not errors(at)
    spec = backward_spec(at)
    assert len(spec["frames"]) == 9  # 6×6 input, 2×2 stride 2 → 3×3 outputs
    assert spec["layout"]["title"]["text"].endswith("the maximum of the window")
    (metric,) = at.metric
    assert metric.value.endswith("✓")
    assert "Max: the whole gradient" in at.info[0].value
    assert "HasUnpoolingOutputs" in text(at)


def test_backprop_controls_change_the_result():
    at = open_page("backprop")
    ones = backward_spec(at)
    at.radio(key="bp_grad").set_value("hot").run()
    at.number_input(key="bp_hot_r").set_value(2).run()
    hot = backward_spec(at)
    z = plotly_array(hot["data"][-1]["z"])
    assert z.sum() == 1 and z[2, 0] == 1
    assert hot["frames"][0]["layout"]["title"]["text"].endswith("nothing flows back from this cell")
    assert ones["frames"][0]["layout"]["title"]["text"] != hot["frames"][0]["layout"]["title"]["text"]
    at.selectbox(key="mode").set_value("avg").run()
    assert not at.exception
    assert "Average: each output's gradient" in at.info[0].value
    assert "/ 4 = 0.25" in backward_spec(at)["frames"][6]["layout"]["title"]["text"]
    at.slider(key="kh").set_value(3).run()  # 3×3 stride 3 on 6×6 → 2×2 outputs
    assert len(backward_spec(at)["frames"]) == 4
    at.slider(key="bp_rows").set_value(9).run()
    assert len(backward_spec(at)["frames"]) == 6
    assert at.metric[0].value.endswith("✓")


def test_backprop_ties_are_explained():
    at = open_page("backprop")
    at.radio(key="bp_check_on").set_value("raw").run()
    assert at.metric[0].value.endswith("✗")
    assert any("tie for the max" in w.value for w in at.warning)


def test_backprop_bad_settings_show_a_message():
    at = open_page("backprop")
    at.slider(key="ph").set_value(2).run()  # padding 2 > kernel 2 // 2
    assert not at.exception
    assert any("padding ≤ kernel/2" in e for e in errors(at))
    assert backward_spec(at)  # the last valid result stays on screen
    at.slider(key="ph").set_value(0).run()
    at.selectbox(key="fw").set_value("caffe").run()  # the framework with stochastic pooling
    at.selectbox(key="mode").set_value("stochastic").run()
    assert not errors(at) and backward_spec(at)
    at.toggle(key="train").set_value(False).run()
    assert not at.exception
    assert any("training=True" in e for e in errors(at))


# ---------------------------------------------------------------- pooling vs strided conv


def outputs_spec(at):
    return next(s for s in charts(at) if len(s["data"]) == 4 and
                s["data"][3].get("name", "").startswith("Strided conv"))


def test_pool_vs_conv_default_view():
    at = open_page("pool_vs_conv")
    assert not errors(at)
    spec = outputs_spec(at)
    names = [d["name"] for d in spec["data"]]
    assert names == ["Input x 6×6", "Max pool 3×3", "Avg pool 3×3", "Strided conv 3×3"]
    # averaging kernel, no padding: the conv is the average pool
    np.testing.assert_allclose(plotly_array(spec["data"][3]["z"]), plotly_array(spec["data"][2]["z"]))
    at.radio(key="pc_diff").set_value("conv-avg").run()
    assert at.metric[0].value == "0"
    params = {m.label: m.value for m in at.metric}
    assert params["Pooling layer: parameters"] == "0"
    assert params["Strided 2×2 convolution: parameters"] == "16,448"
    assert "H_\\text{out} = W_\\text{out}" in at.latex[1].value  # one formula for both axes


def test_pool_vs_conv_controls_change_the_result():
    at = open_page("pool_vs_conv")
    avg = plotly_array(outputs_spec(at)["data"][3]["z"])
    at.radio(key="pc_kernel").set_value("edge").run()
    edge = plotly_array(outputs_spec(at)["data"][3]["z"])
    assert not np.allclose(avg, edge)
    at.radio(key="pc_kernel").set_value("random").run()
    assert not np.allclose(plotly_array(outputs_spec(at)["data"][3]["z"]), edge)
    at.number_input(key="pc_C").set_value(32).run()
    params = {m.label: m.value for m in at.metric}
    assert params["Strided 2×2 convolution: parameters"] == f"{4 * 32 * 32 + 32:,}"
    at.slider(key="kh").set_value(3).run()
    assert [d["name"] for d in outputs_spec(at)["data"]][1] == "Max pool 2×2"


def test_pool_vs_conv_typed_kernel_errors_keep_the_last_result():
    at = open_page("pool_vs_conv")
    at.radio(key="pc_kernel").set_value("typed").run()
    assert at.text_area(key="pc_text").value == "-1, 1; -1, 1"  # the 2×2 edge filter
    at.text_area(key="pc_text").set_value("1, 2; 3, 4").run()
    good = plotly_array(outputs_spec(at)["data"][3]["z"])
    at.text_area(key="pc_text").set_value("1, 2; 3, four").run()
    assert not at.exception
    assert any("Row 2, value 2: 'four' is not a number" in e for e in errors(at))
    np.testing.assert_allclose(plotly_array(outputs_spec(at)["data"][3]["z"]), good)
    at.text_area(key="pc_text").set_value("1,0,-1; 2,0,-2; 1,0,-1").run()
    assert any("typed kernel is 3×3 but the sidebar's kernel size is 2×2" in e
               for e in errors(at))
    at.slider(key="kh").set_value(3).run()
    assert not errors(at)
    assert [d["name"] for d in outputs_spec(at)["data"]][3] == "Strided conv 2×2"


def test_pool_vs_conv_bad_settings_show_a_message():
    at = open_page("pool_vs_conv")
    at.slider(key="dh").set_value(4).run()  # 2×2 dilation 4: spans 5 cells, fine on 6×6
    assert not at.exception and not errors(at)
    # PyTorch's AvgPool2d has no dilation: the core's average on the same windows, said so
    assert "AvgPool2d in PyTorch has no dilation: the average below" in text(at)
    assert [d["name"] for d in outputs_spec(at)["data"]][2] == "Avg pool 1×1"
    at.slider(key="kh").set_value(3).run()  # 3×3 dilation 4 spans 9 > 6: empty output
    assert not at.exception
    assert any("would be empty" in e for e in errors(at))
    assert outputs_spec(at)  # the last valid result stays


# ---------------------------------------------------------------- 1-D, 3-D & adaptive


def test_dims_default_view():
    at = open_page("dims")
    assert not errors(at)
    assert "24 samples → 12 outputs" in text(at)
    assert "8×8×8 → 4×4×4" in text(at)
    formulas = [l.value.removeprefix("$$").strip() for l in at.latex]
    assert any(f.startswith("L_") for f in formulas)
    # a 8×8×8 volume with the same settings on every axis: one line for all three
    assert any(f.startswith(r"D_\text{out} = H_\text{out} = W_\text{out} =") for f in formulas)
    assert "no single kernel and stride" in text(at)  # 7×7 → 3×3


def test_dims_controls_change_the_result():
    at = open_page("dims")
    at.slider(key="kh").set_value(3).run()
    assert "24 samples → 8 outputs" in text(at)
    assert "8×8×8 → 2×2×2" in text(at)
    at.slider(key="d1_len").set_value(30).run()
    assert "30 samples → 10 outputs" in text(at)
    at.radio(key="d3_view").set_value("points").run()
    assert any(d["type"] == "scatter3d" for s in charts(at) for d in s["data"])
    at.slider(key="ad_h").set_value(6).run()
    at.slider(key="ad_w").set_value(9).run()
    assert "kernel = stride = 2×3 (equal ✓)" in text(at)
    at.toggle(key="ad_global").set_value(True).run()
    assert any("Global max pooling" in i.value for i in at.info)


def test_dims_pasted_numbers_errors_name_the_token():
    at = open_page("dims")
    at.radio(key="d1_kind").set_value("paste").run()
    assert "12 samples → 6 outputs" in text(at)
    at.text_area(key="d1_text").set_value("1, 2, 3, x7, 5").run()
    assert not at.exception
    assert any("'x7'" in e for e in errors(at))
    assert "12 samples → 6 outputs" in text(at)  # the last valid signal stays


def test_dims_bad_settings_show_a_message():
    at = open_page("dims")
    at.selectbox(key="mode").set_value("lp").run()
    assert not at.exception and not errors(at)
    # adaptive pooling has no lp: the tab says so and shows max, with its figure
    assert any("the sidebar's lp is shown as max" in c.value for c in at.caption)
    assert any("Row bins" in m.value for m in at.markdown)
    at.selectbox(key="mode").set_value("max").run()
    at.slider(key="ph").set_value(2).run()
    assert not at.exception
    assert any("padding ≤ kernel/2" in e for e in errors(at))


def test_dims_adaptive_code_in_each_framework():
    at = open_page("dims")
    at.selectbox(key="mode").set_value("avg").run()
    codes = [c.value for c in at.code]
    assert "nn.AdaptiveAvgPool2d(output_size=(3, 3))" in codes
    assert "layers.AdaptiveAveragePooling2D(output_size=(3, 3))" in codes
    assert any(c.value.startswith("Keras places the bins as PyTorch does") for c in at.caption)
    assert any(c.value.startswith("**ONNX**: ONNX has no adaptive pooling") for c in at.caption)
    at.toggle(key="ad_global").set_value(True).run()
    assert 'onnx.helper.make_node("GlobalAveragePool", ["x"], ["y"])' in [c.value for c in at.code]
