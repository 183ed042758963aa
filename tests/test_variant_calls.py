"""The code panel's calls, run: every call ``variant_calls`` marks ``same`` is executed here
where its framework runs (pooling_core, PyTorch, kornia, ONNX through onnxruntime) and
must give pooling_core's numbers; a call marked not ``same`` that runs must differ.

``antialiased_cnns`` does not install against this torch, so its ``BlurPool`` is
stood in for by a few lines written from its documented rule (pad ``(k-1)//2`` before
and ``ceil((k-1)/2)`` after with ``pad_type`` 'zero'/'reflect'/'repl', a depthwise
binomial filter at ``stride``, plain subsampling for ``filt_size=1``): that checks
the argument names and values the panel writes. TensorFlow, cirtorch and the SoftPool
package are not installed; their calls are not run.
"""
import math
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")
kornia = pytest.importorskip("kornia")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper

import pooling_core
from pooling_core import VARIANTS, variant_calls, variant_frameworks

F, nn = torch.nn.functional, torch.nn
RUNNABLE = ("Poolscope", "PyTorch", "kornia", "ONNX", "antialiased_cnns")


class _AntialiasedStandIn:
    """``antialiased_cnns`` as its README documents ``BlurPool`` (see the module docstring)."""

    class BlurPool(nn.Module):
        def __init__(self, channels, pad_type="reflect", filt_size=4, stride=2, pad_off=0):
            super().__init__()
            a, b = (filt_size - 1) // 2, math.ceil((filt_size - 1) / 2)
            self.pad = {"zero": nn.ZeroPad2d, "reflect": nn.ReflectionPad2d,
                        "refl": nn.ReflectionPad2d, "repl": nn.ReplicationPad2d,
                        "replicate": nn.ReplicationPad2d}[pad_type]((a, b, a, b))
            row = torch.tensor([math.comb(filt_size - 1, i) for i in range(filt_size)],
                               dtype=torch.float64)
            filt = row[:, None] * row[None, :]
            self.register_buffer("filt", (filt / filt.sum())[None, None].repeat(channels, 1, 1, 1))
            self.stride, self.filt_size, self.channels = stride, filt_size, channels

        def forward(self, x):
            if self.filt_size == 1:
                return x[:, :, ::self.stride, ::self.stride]
            return F.conv2d(self.pad(x), self.filt, stride=self.stride, groups=self.channels)


def _onnx_op(op, inputs):
    def run(**attrs):
        node = helper.make_node(op, [n for n, _ in inputs], ["Y"], **attrs)
        graph = helper.make_graph(
            [node], "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT if n != "batch_indices"
                                                        else TensorProto.INT64, None)
                          for n, _ in inputs],
            [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        session = ort.InferenceSession(
            helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)])
            .SerializeToString(), options, providers=["CPUExecutionProvider"])
        return session.run(None, {n: v for n, v in inputs})[0]
    return run


def run_call(call, x, samples=None, boxes=None):
    """Evaluate one call's code on ``x`` (and ``samples``/``boxes``); a numpy array."""
    code = call.call
    if call.framework == "Poolscope":
        result = eval(code, {"pooling_core": pooling_core, "x": x, "samples": samples,
                             "boxes": boxes})
        return np.asarray(result[0] if isinstance(result, tuple) else result)
    if call.framework == "ONNX":
        x32, b32 = x.astype(np.float32), boxes.astype(np.float32)
        ns = {"RoiAlign": _onnx_op("RoiAlign", [("X", x32), ("rois", b32[:, 1:]),
                                                ("batch_indices", b32[:, 0].astype(np.int64))]),
              "MaxRoiPool": _onnx_op("MaxRoiPool", [("X", x32), ("rois", b32)])}
        return np.asarray(eval(code, ns), dtype=np.float64)
    ns = {"torch": torch, "F": F, "nn": nn, "kornia": kornia, "x": torch.tensor(x),
          "C": x.shape[1], "antialiased_cnns": _AntialiasedStandIn,
          "samples": None if samples is None else torch.tensor(samples)}
    result = eval(code, ns)
    if isinstance(result, nn.Module):
        result = result.double()(ns["x"])
    if isinstance(result, tuple):
        result = result[0]
    return result.detach().numpy()


rng = np.random.default_rng(0)
X = rng.uniform(0.05, 2.0, (2, 3, 12, 14))
SAMPLES = rng.random((2, 3, 2))
BOXES = np.array([[0, 1.3, 0.4, 9.8, 7.1], [1, 0, 0, 13, 11], [0, 4, 5, 6.5, 6]])
CASES = [
    ("fractional_max", dict(kernel_size=2, output_ratio=0.6)),
    ("fractional_max", dict(kernel_size=(2, 3), output_size=(5, 7), return_indices=True)),
    ("blur", dict(kernel_size=3, stride=2)),
    ("blur", dict(kernel_size=5, stride=2, padding_mode="reflect")),
    ("blur", dict(kernel_size=1, stride=3, padding_mode="replicate")),
    ("blur", dict(kernel_size=4, stride=1, padding_mode="zeros")),
    ("max_blur", dict(kernel_size=3, stride=2, max_pool_size=2)),
    ("max_blur", dict(kernel_size=2, stride=1, max_pool_size=3, padding_mode="reflect")),
    ("gem", dict(p=3.0)), ("gem", dict(kernel_size=3, stride=2, p=2.5)),
    ("gem", dict(kernel_size=2, p=np.inf)),
    ("mixed", dict(kernel_size=2, alpha=0.3)), ("mixed", dict(kernel_size=3, stride=2,
                                                              padding=1, alpha=0.8)),
    ("softpool", dict(kernel_size=2)), ("softpool", dict(kernel_size=3, stride=1)),
    ("spatial_pyramid", dict()), ("spatial_pyramid", dict(levels=(1, 3), mode="avg")),
    ("roi_pool", dict(output_size=3, spatial_scale=1.0)),
    ("roi_pool", dict(output_size=(2, 4), spatial_scale=0.5)),
    ("roi_align", dict(output_size=3)),
    ("roi_align", dict(output_size=(2, 3), spatial_scale=0.5, sampling_ratio=2, aligned=True)),
    ("roi_align", dict(output_size=2, sampling_ratio=0, mode="max")),
]


@pytest.mark.parametrize("variant, params", CASES)
def test_every_runnable_call_gives_our_numbers_or_is_marked_different(variant, params):
    calls = variant_calls(variant, **params)
    assert calls[0].framework == "Poolscope"
    ours = run_call(calls[0], X, SAMPLES, BOXES)
    ran = 0
    for call in calls[1:]:
        if call.framework not in RUNNABLE:
            continue
        theirs = run_call(call, X, SAMPLES, BOXES)
        tol = 1e-5 if call.framework == "ONNX" else 1e-10  # onnxruntime computes in float32
        same = theirs.shape == ours.shape and np.allclose(theirs, ours, rtol=tol, atol=tol)
        assert same == call.same, f"{call.framework}: {call.call}"
        ran += 1
    assert ran >= 1


def test_the_table_lists_each_variants_frameworks():
    table = variant_frameworks()
    assert list(table) == list(VARIANTS)
    assert table["fractional_max"] == ["Poolscope", "PyTorch", "TensorFlow"]
    assert {"kornia", "antialiased_cnns"} <= set(table["blur"])
    assert {"torchvision", "ONNX"} <= set(table["roi_align"])
    for variant, fn in VARIANTS.items():
        assert callable(getattr(pooling_core, fn))
        assert re.search(rf"pooling_core\.{fn}\(", variant_calls(variant)[0].call)


def test_call_keys_name_the_conventions_frameworks():
    from pooling_core.conventions import FRAMEWORKS
    keys = {c.key for v in VARIANTS for c in variant_calls(v)}
    assert {"pytorch", "tensorflow", "onnx"} <= keys <= set(FRAMEWORKS) | {
        "poolscope", "kornia", "antialiased_cnns", "torchvision", "cirtorch", "softpool"}


def test_unknown_variants_and_parameters_raise():
    with pytest.raises(ValueError, match="variant='lp' is unknown"):
        variant_calls("lp")
    with pytest.raises(ValueError, match="unexpected keyword"):
        variant_calls("gem", alpha=0.5)
