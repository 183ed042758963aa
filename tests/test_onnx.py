"""ONNX, checked against ONNX itself: its backend node tests and onnxruntime.

1. Every pooling case of ONNX's backend node tests (``onnx.backend.test.case.node``:
   MaxPool, AveragePool, LpPool, GlobalMaxPool, GlobalAveragePool, MaxUnpool), built in
   memory by ONNX's own generator (it seeds NumPy with 0 before each case; the expected
   outputs are computed by ONNX's reference code), run through the ONNX record of
   ``pooling_core.conventions`` and compared: values, shapes, dtypes, and MaxPool's
   Indices as ONNX flattens them (storage_order 0 and 1).
2. Seeded random MaxPool / AveragePool / LpPool models through onnxruntime, against the
   "ONNX Runtime" record; where onnxruntime departs from the spec, the "ONNX" record is
   checked against a slow loop written from the spec's text instead, and the ONNX
   Runtime record must say why it differs.
"""
import functools
import importlib
import itertools
import math

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from pooling_core.conventions import (FRAMEWORKS, ONNX_OPS, Settings, compare_frameworks,
                                      framework_args, onnx_args, onnx_indices, onnx_run)

NODE_OPS = ("MaxPool", "AveragePool", "LpPool", "GlobalMaxPool", "GlobalAveragePool",
            "MaxUnpool")

#: Node cases the core cannot express, with the reason: none. A case that starts failing
#: (or a new case ONNX adds that cannot pass) must be listed here with its reason.
CANNOT_EXPRESS: dict[str, str] = {}
#: Cases whose expected outputs ONNX wrote by hand to 4 decimals: checked at the tolerance
#: of ONNX's own backend runner (rtol 1e-3, atol 1e-7); every other case at rtol 1e-5.
ROUNDED = {"test_averagepool_2d_ceil_last_window_starts_on_pad"}


@functools.cache
def node_cases():
    """ONNX's pooling node cases: ``{name: (op_type, attrs, inputs, outputs)}``."""
    import onnx.backend.test.case.node as node

    state = np.random.get_state()  # the generator seeds NumPy's global RNG with 0
    try:
        for op in NODE_OPS:
            importlib.import_module(f"onnx.backend.test.case.node.{op.lower()}")
    finally:
        np.random.set_state(state)
    cases = {}
    for case in node._NodeTestCases:
        graph = case.model.graph
        if len(graph.node) != 1 or graph.node[0].op_type not in NODE_OPS:
            continue  # other operators' cases, or expanded function bodies
        (n,) = graph.node
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        ((inputs, outputs),) = case.data_sets
        cases[case.name] = (n.op_type, attrs, list(inputs), list(outputs))
    return cases


def test_every_pooling_case_of_onnx_is_here():
    cases = node_cases()
    counts = {op: sum(c[0] == op for c in cases.values()) for op in NODE_OPS}
    # onnx 1.23.2 (requirements-dev.txt): a new ONNX release that adds cases changes these
    assert counts == {"MaxPool": 19, "AveragePool": 20, "LpPool": 8, "GlobalMaxPool": 2,
                      "GlobalAveragePool": 2, "MaxUnpool": 2}
    assert set(CANNOT_EXPRESS) <= set(cases)


@pytest.mark.parametrize("name", sorted(node_cases()))
def test_onnx_node_case(name):
    op, attrs, inputs, expected = node_cases()[name]
    if name in CANNOT_EXPRESS:
        call = onnx_args(op, attrs, inputs[0].shape)
        assert not call.ok and call.reason == CANNOT_EXPRESS[name]
        return
    got = onnx_run(op, attrs, inputs, outputs=len(expected))
    assert len(got) == len(expected)
    for g, want in zip(got, expected):
        assert g.shape == want.shape and g.dtype == want.dtype, (g.shape, g.dtype, want.dtype)
        if want.dtype.kind in "iu":
            np.testing.assert_array_equal(g, want)  # Indices, uint8 maxima
        elif name in ROUNDED:
            np.testing.assert_allclose(g, want, rtol=1e-3, atol=1e-7)
        else:  # ONNX's own runner allows rtol 1e-3, atol 1e-7; float32 sums hold 1e-5
            np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-6)


def test_the_ceil_window_that_starts_on_padding_is_dropped_in_2d_settings_too():
    # test_averagepool_2d_ceil_last_window_starts_on_pad through framework_args: n=2, k=3,
    # s=3, pads 1: ceil((2 + 2 - 3) / 3 + 1) = 2, but window 1 starts at 3 - 1 = 2 >= n:
    # dropped. The one window divides by its 3x3 cells (count_include_pad=1).
    op, attrs, (x,), (y,) = node_cases()["test_averagepool_2d_ceil_last_window_starts_on_pad"]
    s = Settings(shape=(2, 2), kernel=3, stride=3, padding=1, mode="avg", ceil_mode=True,
                 count_include_pad=True)
    for key in ("onnx", "onnxruntime"):
        call = framework_args(s, key)
        assert call.ok and call.out_shape == (1, 1), call.reason
        from pooling_core import pool2d
        np.testing.assert_allclose(pool2d(x, **call.kwargs), y, rtol=1e-3)  # (y: 4 decimals)
    np.testing.assert_allclose(x.sum(axis=(2, 3)) / 9, y[..., 0, 0], rtol=1e-3)


def test_maxpool_indices_flatten_over_batch_and_channels():
    # 2 images x 2 channels of 2x3 planes; kernel 2x2, stride 1: windows start at col 0, 1.
    x = np.arange(24, dtype=np.float32).reshape(2, 2, 2, 3)
    y, i0 = onnx_run("MaxPool", dict(kernel_shape=[2, 2]), [x], outputs=2)
    # the max of each window is its bottom-right cell: (1, 1) and (1, 2) of each plane
    assert i0[0, 0].ravel().tolist() == [4, 5] and i0[1, 1].ravel().tolist() == [22, 23]
    _, i1 = onnx_run("MaxPool", dict(kernel_shape=[2, 2], storage_order=1), [x], outputs=2)
    # column major in a 2x3 plane: (1, 1) -> 1 + 1*2 = 3, (1, 2) -> 1 + 2*2 = 5; plane 3 adds 18
    assert i1[0, 0].ravel().tolist() == [3, 5] and i1[1, 1].ravel().tolist() == [21, 23]
    np.testing.assert_array_equal(y.ravel(), x.ravel()[i0.ravel()])
    with pytest.raises(ValueError, match="storage_order"):
        onnx_indices(np.zeros((1, 1, 1, 1), int), (1, 1, 2, 2), storage_order=2)


# --------------------------------------------------------------------- LpPool: no divisor


@pytest.mark.parametrize("p", [1, 2, 3])
def test_lppool_is_a_p_norm_of_magnitudes_and_ceil_windows_are_not_rescaled(p):
    # 1x1x1x5 input [-1, 2, -3, 4, -5], kernel (1, 2), strides (1, 2), ceil_mode:
    # ceil((5 - 2) / 2 + 1) = 3 windows [-1, 2], [-3, 4], [-5]; the last is clipped at the
    # border and is the norm of |-5| alone: 5, whatever p (PyTorch would scale it by 2).
    x = np.array([-1.0, 2.0, -3.0, 4.0, -5.0], dtype=np.float32).reshape(1, 1, 1, 5)
    attrs = dict(kernel_shape=[1, 2], strides=[1, 2], ceil_mode=1, p=p)
    want = [(1 + 2 ** p) ** (1 / p), (3 ** p + 4 ** p) ** (1 / p), 5.0]
    (got,) = onnx_run("LpPool", attrs, [x])
    np.testing.assert_allclose(got.ravel(), want, rtol=1e-6)
    np.testing.assert_allclose(run_ort("LpPool", attrs, x)[0].ravel(), want, rtol=1e-6)
    # a padded 3x3 window in the corner: pads count as zeros, no divisor
    ones = np.ones((1, 1, 3, 3), np.float32)
    (pad,) = onnx_run("LpPool", dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], p=p), [ones])
    assert pad[0, 0, 0, 0] == pytest.approx(4 ** (1 / p)) and pad[0, 0, 1, 1] == pytest.approx(
        9 ** (1 / p))


# --------------------------------------------------------------------- onnxruntime, at random


def run_ort(op, attrs, x, outputs=1):
    """One node through onnxruntime's CPU provider."""
    names = ["y", "i"][:outputs]
    node = helper.make_node(op, ["x"], names, **attrs)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT if n == "y" else TensorProto.INT64,
                                       None) for n in names])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])
    options = ort.SessionOptions()
    options.log_severity_level = 4  # its refusals are part of the test
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})


def spec_pool(op, x, attrs):
    """The ONNX spec's text (opset 22), as a loop over every window: obviously right, slow.

    Explicit pads: out = floor or ceil((n + pads - span) / s + 1), dropping a ceil-mode
    window that would start in the right padding. SAME_UPPER/LOWER: out = ceil(n / s),
    total padding (out - 1)*s + span - n, the odd cell at the end / beginning. VALID:
    out = floor((n - span) / s) + 1 (its ceil formula gives the same). MaxPool and
    AveragePool (count_include_pad=0) exclude the padding; count_include_pad=1 divides by
    the taps inside input + pads; LpPool is (sum |x|**p) ** (1/p) over the real taps.
    """
    k = attrs["kernel_shape"]
    nd = len(k)
    s, d = attrs.get("strides", [1] * nd), attrs.get("dilations", [1] * nd)
    auto, ceil = attrs.get("auto_pad", "NOTSET"), attrs.get("ceil_mode", 0)
    pads = attrs.get("pads", [0] * 2 * nd)
    axes = []
    for a, n in enumerate(x.shape[2:]):
        span = d[a] * (k[a] - 1) + 1
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            out = math.ceil(n / s[a])
            total = (out - 1) * s[a] + span - n
            pb = total // 2 if auto == "SAME_UPPER" else total - total // 2
            pa = total - pb
        elif auto == "VALID":
            pb = pa = 0
            out = math.floor((n - span) / s[a]) + 1
        else:
            pb, pa = pads[a], pads[nd + a]
            out = (math.ceil if ceil else math.floor)((n + pb + pa - span) / s[a] + 1)
            if ceil and (out - 1) * s[a] >= n + pb:
                out -= 1
        taps = [[i * s[a] - pb + j * d[a] for j in range(k[a])] for i in range(out)]
        axes.append((n, pb, pa, taps))
    y = np.zeros(x.shape[:2] + tuple(len(ax[3]) for ax in axes))
    p, cip = attrs.get("p", 2), attrs.get("count_include_pad", 0)
    for index in itertools.product(*[range(len(ax[3])) for ax in axes]):
        taps = [ax[3][i] for ax, i in zip(axes, index)]
        real = list(itertools.product(*[[t for t in ts if 0 <= t < ax[0]]
                                        for ts, ax in zip(taps, axes)]))
        frame = math.prod(sum(-ax[1] <= t < ax[0] + ax[2] for t in ts)
                          for ts, ax in zip(taps, axes))
        vals = np.array([x[(slice(None), slice(None)) + c] for c in real], dtype=np.float64)
        where = (slice(None), slice(None)) + index
        if op == "MaxPool":
            y[where] = vals.max(axis=0)
        elif op == "LpPool":
            y[where] = (np.abs(vals) ** p).sum(axis=0) ** (1 / p)
        else:
            y[where] = vals.sum(axis=0) / (frame if cip else len(real))
    return y


def random_model(rng):
    op = str(rng.choice(["MaxPool", "AveragePool", "LpPool"]))
    nd = int(rng.choice([1, 2, 2, 3]))
    shape = tuple(int(v) for v in rng.integers(1, 8 if nd < 3 else 5, nd))
    k = [int(v) for v in rng.integers(1, 5 if nd < 3 else 3, nd)]
    attrs = dict(kernel_shape=k, strides=[int(v) for v in rng.integers(1, 4, nd)],
                 dilations=[int(v) for v in rng.choice([1, 1, 2, 3], nd)],
                 ceil_mode=int(rng.integers(2)))
    auto = str(rng.choice(["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]))
    if auto == "NOTSET":
        attrs["pads"] = [int(rng.integers(0, kk)) for kk in k * 2]
        if rng.random() < 0.15:  # a pad as long as the kernel: the spec's, not onnxruntime's
            attrs["pads"][0] = k[0]
    else:
        attrs["auto_pad"] = auto
    if op == "AveragePool":
        attrs["count_include_pad"] = int(rng.integers(2))
    if op == "LpPool":
        attrs["p"] = int(rng.integers(1, 4))
    if op == "MaxPool" and rng.random() < 0.5:
        attrs["storage_order"] = int(rng.integers(2))
    x = rng.standard_normal((1, 2) + shape).astype(np.float32)
    return op, attrs, x


def cross_check(n, seed=20261203):
    """Run ``n`` random models; returns ``(counts, reasons)`` and asserts every case.

    Counts: 'pass' (the ONNX Runtime record gives onnxruntime's numbers), 'both refuse'
    (onnxruntime errors or gives an empty output, and the record refuses), 'cannot
    express' (onnxruntime runs, the record refuses: reasons listed), and 'spec differs'
    (onnxruntime and the spec disagree: the ONNX record matched the spec loop and the
    ONNX Runtime record explained the difference).
    """
    rng = np.random.default_rng(seed)
    counts, reasons = dict.fromkeys(("pass", "both refuse", "cannot express",
                                     "spec differs", "spec checked"), 0), {}
    for _ in range(n):
        op, attrs, x = random_model(rng)
        outputs = 2 if op == "MaxPool" else 1
        runtime = onnx_args(op, attrs, x.shape, runtime=True)
        spec = onnx_args(op, attrs, x.shape)
        if runtime.ok and runtime.kwargs["pad_value"] is not None:
            outputs = 1  # ONNX Runtime's index of a window of padding only names no cell
        try:
            ref = run_ort(op, attrs, x, outputs)
        except Exception:  # noqa: BLE001 - onnxruntime's refusals have no common type
            ref = None
        if ref is None or ref[0].size == 0:
            assert not runtime.ok, (op, attrs, x.shape)
            counts["both refuse"] += 1
        elif not runtime.ok:
            counts["cannot express"] += 1
            reasons[runtime.reason] = reasons.get(runtime.reason, 0) + 1
        else:
            got = onnx_run(op, attrs, [x], runtime=True, outputs=outputs)
            assert got[0].shape == ref[0].shape, (op, attrs, x.shape)
            np.testing.assert_allclose(got[0], ref[0], rtol=1e-5, atol=1e-5,
                                       err_msg=f"{op} {attrs} {x.shape}")
            if outputs == 2:
                np.testing.assert_array_equal(got[1], ref[1], err_msg=f"{op} {attrs}")
            counts["pass"] += 1
        if spec.ok:
            counts["spec checked"] += 1
            want = spec_pool(op, x.astype(np.float64), attrs)
            (mine,) = onnx_run(op, attrs, [x])
            assert mine.shape == want.shape, (op, attrs, x.shape)
            np.testing.assert_allclose(mine, want, rtol=1e-5, atol=1e-5)
            if runtime.ok and ref is not None and (
                    ref[0].shape != want.shape or not np.allclose(ref[0], want, rtol=1e-5,
                                                                  atol=1e-5)):
                assert runtime.notes, (op, attrs, x.shape)  # the difference is explained
                counts["spec differs"] += 1
    return counts, reasons


def test_random_models_through_onnxruntime():
    counts, reasons = cross_check(300)  # about 4 s
    assert counts["pass"] > 120 and counts["spec differs"] > 15 and counts["spec checked"] > 150
    # onnxruntime runs these, and the core cannot give its numbers:
    assert set(reasons) <= set(RUNTIME_CANNOT_EXPRESS), reasons


#: What onnxruntime runs and the ONNX Runtime record refuses, and why.
RUNTIME_CANNOT_EXPRESS = (
    "ONNX Runtime's SAME padding is negative here (it pads for the undilated kernel): "
    "MaxPool rejects it, AveragePool and LpPool crop the input",
    "the kernel spans more than input + padding here: ONNX Runtime rounds the negative "
    "(n + pads - span) / stride toward zero and keeps one window, where the spec's floor "
    "(and PyTorch) gives none",
    "a window reads only padding here: ONNX Runtime averages it to 0, Poolscope's "
    "count_include_pad=0 average to 0/0",
)


@pytest.mark.parametrize("attrs, shape, note", [
    (dict(kernel_shape=[2], dilations=[2], auto_pad="SAME_UPPER"), (1, 1, 4),
     "ONNX Runtime sizes SAME padding for the undilated kernel"),
    (dict(kernel_shape=[3], strides=[2], auto_pad="VALID", ceil_mode=1), (1, 1, 6),
     "ONNX Runtime rounds VALID up in ceil mode"),
    (dict(kernel_shape=[2], dilations=[2], pads=[1, 1]), (1, 1, 1),
     "ONNX Runtime gives −FLT_MAX"),
])
def test_each_known_departure_is_explained_and_measured(attrs, shape, note):
    x = np.arange(1.0, 1.0 + math.prod(shape), dtype=np.float32).reshape(shape)
    spec, runtime = onnx_args("MaxPool", attrs, shape), onnx_args("MaxPool", attrs, shape,
                                                                   runtime=True)
    assert runtime.ok and any(n.startswith(note) for n in runtime.notes), runtime.notes
    (got,) = onnx_run("MaxPool", attrs, [x], runtime=True)
    np.testing.assert_array_equal(got, run_ort("MaxPool", attrs, x)[0])
    if spec.ok:
        (mine,) = onnx_run("MaxPool", attrs, [x])
        np.testing.assert_array_equal(mine, spec_pool("MaxPool", x, attrs))
        assert mine.shape != got.shape or not np.array_equal(mine, got)
    else:
        assert "a window reads only padding" in spec.reason


def test_onnx_runtime_row_appears_only_when_it_differs():
    x = np.arange(36.0).reshape(6, 6)
    plain = {r.framework for r in compare_frameworks(x, Settings(shape=6, kernel=3, stride=2,
                                                                  padding=1))}
    assert "onnx" in plain and "onnxruntime" not in plain
    s = Settings(shape=6, kernel=2, stride=1, dilation=2, padding="same")
    rows = {r.framework: r for r in compare_frameworks(x, s)}
    ort_row = rows["onnxruntime"]
    assert ort_row.call.ok and rows["onnx"].call.ok
    assert ort_row.call.pads == ((0, 1), (0, 1)) and rows["onnx"].call.pads == ((1, 1), (1, 1))
    assert ort_row.call.notes[0].startswith("ONNX Runtime sizes SAME padding")
    # its numbers are onnxruntime's
    ref = run_ort("MaxPool", dict(kernel_shape=[2, 2], dilations=[2, 2], auto_pad="SAME_UPPER"),
                  x.astype(np.float32).reshape(1, 1, 6, 6))[0]
    np.testing.assert_array_equal(ort_row.output, ref[0, 0])
    # a refusal only onnxruntime has is a row too
    # (kernel 2, dilation 3, pads 2: taps -2 and 1, so no window reads only padding)
    rows = {r.framework: r for r in compare_frameworks(np.ones((8, 8)),
                                                        Settings(shape=8, kernel=2, padding=2,
                                                                 dilation=3, stride=1))}
    assert rows["onnx"].call.ok
    assert rows["onnxruntime"].call.reason == "ONNX Runtime requires each pad < kernel"


def test_both_onnx_records_know_every_node_operator():
    assert set(ONNX_OPS) >= set(NODE_OPS) - {"MaxUnpool"}
    assert FRAMEWORKS["onnx"].calls == FRAMEWORKS["onnxruntime"].calls
    for bad, match in ((("Conv", {}), "not an ONNX pooling operator"),
                       (("MaxPool", {"kernel_shape": [2], "count_include_pad": 1}),
                        "has no attribute count_include_pad"),
                       (("MaxPool", {}), "needs the attribute kernel_shape"),
                       (("MaxPool", {"kernel_shape": [2, 2]}), "must list 1 ints"),
                       (("LpPool", {"kernel_shape": [2], "p": 2.5}), "positive int"),
                       (("MaxPool", {"kernel_shape": [2], "auto_pad": "FULL"}), "auto_pad")):
        with pytest.raises(ValueError, match=match):
            onnx_args(*bad, (1, 1, 4))
    call = onnx_args("MaxPool", {"kernel_shape": [2], "auto_pad": b"VALID", "pads": [1, 1]},
                     (1, 1, 4))
    assert not call.ok and "pads or auto_pad" in call.reason
    assert onnx.__version__ and ort.__version__


def test_windows_of_padding_only():
    # n=1, kernel 2, dilation 2, pads 1, 1: (1 + 2 - 3) / 1 + 1 = 1 window, taps -1 and 1,
    # neither a real cell. The spec leaves MaxPool's and AveragePool's (count_include_pad 0)
    # value for it undefined; onnxruntime gives -FLT_MAX and 0. LpPool and the
    # count_include_pad=1 average are defined: 0 (no |x|**p to add; 0 / 2 frame cells).
    x = np.array([[[3.0]]], dtype=np.float32)
    window = dict(kernel_shape=[2], dilations=[2], pads=[1, 1])
    lowest = [float(-np.finfo(np.float32).max)]
    assert onnx_run("MaxPool", window, [x], runtime=True)[0].ravel().tolist() == lowest
    assert run_ort("MaxPool", window, x)[0].ravel().tolist() == lowest
    avg = dict(window, count_include_pad=0)
    assert run_ort("AveragePool", avg, x)[0].ravel().tolist() == [0.0]
    assert onnx_args("AveragePool", avg, x.shape, runtime=True).reason == RUNTIME_CANNOT_EXPRESS[2]
    for op, attrs in (("MaxPool", window), ("AveragePool", avg)):
        assert onnx_args(op, attrs, x.shape).reason.startswith("a window reads only padding "
                                                               "here, and the ONNX spec")
    for op, attrs, want in (("LpPool", dict(window, p=2), [0.0]),
                            ("AveragePool", dict(window, count_include_pad=1), [0.0])):
        for runtime in (False, True):
            assert onnx_run(op, attrs, [x], runtime=runtime)[0].ravel().tolist() == want
        assert run_ort(op, attrs, x)[0].ravel().tolist() == want
    with pytest.raises(ValueError, match="names no cell"):
        onnx_run("MaxPool", window, [x], runtime=True, outputs=2)


def test_lppool_ceil_overhang_on_one_axis_keeps_the_other_axis_clipped():
    # axis 0: n=1, k=1, pads 1, 1, stride 1, ceil: 3 windows, the last would start at 2 - 1 =
    # 1 = n -> dropped: 2. Axis 1: n=1, k=2, d=3 (span 4), pads 1, 1, stride 2, ceil:
    # ceil((1 + 2 - 4) / 2 + 1) = 1 window over -1..2 that reads past the padding. The first
    # axis must keep its 2 windows when the second's overhang is read as padding.
    x = np.array([[[[2.0]]]], dtype=np.float32)
    attrs = dict(kernel_shape=[1, 2], strides=[1, 2], dilations=[1, 3], pads=[1, 1, 1, 1],
                 ceil_mode=1, p=2)
    (got,) = onnx_run("LpPool", attrs, [x])
    assert got.shape == (1, 1, 2, 1) == spec_pool("LpPool", x, attrs).shape
    np.testing.assert_allclose(got, spec_pool("LpPool", x, attrs))
    # (a pad as long as the kernel: onnxruntime refuses, and so does its record)
    assert onnx_args("LpPool", attrs, x.shape, runtime=True).reason == \
        "ONNX Runtime requires each pad < kernel"
    with pytest.raises(Exception, match="Pad should be smaller than kernel"):
        run_ort("LpPool", attrs, x)
