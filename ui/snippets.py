"""The code tab's snippets, complete: imports, the playground's matrix as ``x``, the call, ``out``.

:mod:`pooling_core.conventions` gives each framework's call for the settings
(``FrameworkCall.code``: ``nn.MaxPool2d(...)``, ``tf.nn.max_pool2d(x, ...)``, an ONNX
node, a Caffe ``pooling_param``...). :func:`snippet` wraps it in what makes it run on its
own: the imports, the matrix in the framework's layout (PyTorch and ONNX: N, C, H, W;
TensorFlow and Keras: N, H, W, C), the call and ``out``, the H × W result, printed.
:func:`core_snippet` does the same for Poolscope's own ``pool2d``. The Python snippets are
run by tests/test_snippets.py (NumPy, PyTorch, Keras on its torch backend, ONNX Runtime,
scikit-image).
"""
from __future__ import annotations

import math

import numpy as np

#: the language each framework's snippet is written in (for ``st.code``)
LANGUAGES = {"caffe": "protobuf", "matlab": "matlab"}


def _number(v) -> str:
    """A value as Python source that reads back exactly (``float("-inf")`` for −∞)."""
    v = float(v)
    if not math.isfinite(v):
        return "float('nan')" if math.isnan(v) else "float('inf')" if v > 0 else "float('-inf')"
    return str(int(v)) if v == int(v) and abs(v) < 2**53 else repr(v)


def matrix_text(x, indent: int = 4, sep: str = ", ", rows: str = ",\n") -> str:
    """``x`` (2-D) as nested list source, one row a line.

    >>> print(matrix_text([[1, 2.5], [3, float("inf")]]))
    [
        [1, 2.5],
        [3, float('inf')],
    ]
    """
    pad = " " * indent
    lines = [f"{pad}[{sep.join(_number(v) for v in row)}]" for row in np.atleast_2d(x)]
    return "[\n" + rows.join(lines) + rows.rstrip("\n") + "\n]"


def _value(v) -> str:
    """A keyword argument's value as source (tuples, strings, bools, numbers)."""
    if isinstance(v, (bool, str, type(None))):
        return repr(v)
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(_value(e) for e in v) + ("," if len(v) == 1 else "") + ")"
    return _number(v)


def core_snippet(x, kwargs: dict) -> str:
    """Poolscope's own call on ``x`` with ``kwargs``, runnable from the repository's root.

    >>> print(core_snippet([[1, 2], [3, 4]], {"kernel_size": (2, 2), "mode": "max"}))
    import numpy as np
    from pooling_core import pool2d  # run from the Poolscope folder
    <BLANKLINE>
    x = np.array([
        [1, 2],
        [3, 4],
    ], dtype=float)
    out = pool2d(x, kernel_size=(2, 2), mode='max')
    print(out)
    """
    args = ", ".join(f"{k}={_value(v)}" for k, v in kwargs.items())
    return (f"import numpy as np\nfrom pooling_core import pool2d  # run from the Poolscope folder\n\n"
            f"x = np.array({matrix_text(x)}, dtype=float)\nout = pool2d(x, {args})\nprint(out)")


def snippet(framework: str, code: str, x) -> str:
    """The framework's call ``code`` (from ``FrameworkCall.code``) as a complete snippet on ``x``.

    >>> print(snippet("pytorch", "nn.MaxPool2d(kernel_size=(2, 2))", [[1, 2], [3, 4]]))
    import torch
    from torch import nn
    <BLANKLINE>
    x = torch.tensor([
        [1, 2],
        [3, 4],
    ], dtype=torch.float32)[None, None]  # (N, C, H, W) = (1, 1, 2, 2)
    pool = nn.MaxPool2d(kernel_size=(2, 2))
    out = pool(x)[0, 0]  # the H × W result
    print(out)
    """
    x = np.atleast_2d(np.asarray(x, dtype=float))
    h, w = x.shape
    m = matrix_text(x)
    if framework == "pytorch":
        return (f"import torch\nfrom torch import nn\n\n"
                f"x = torch.tensor({m}, dtype=torch.float32)[None, None]  # (N, C, H, W) = "
                f"(1, 1, {h}, {w})\npool = {code}\nout = pool(x)[0, 0]  # the H × W result\n"
                f"print(out)")
    if framework == "tensorflow":
        return (f"import numpy as np\nimport tensorflow as tf\n\n"
                f"x = tf.constant(np.array({m}, dtype=np.float32)[None, :, :, None])  "
                f"# (N, H, W, C) = (1, {h}, {w}, 1)\nout = {code}[0, :, :, 0].numpy()\n"
                f"print(out)")
    if framework == "keras":
        return (f"import numpy as np\nfrom keras import layers, ops  # any backend: "
                f"KERAS_BACKEND=tensorflow, jax or torch\n\n"
                f"x = np.array({m}, dtype=np.float32)[None, :, :, None]  # (N, H, W, C) = "
                f"(1, {h}, {w}, 1)\npool = {code}\nout = ops.convert_to_numpy(pool(x))[0, :, :, 0]\n"
                f"print(out)")
    if framework in ("onnx", "onnxruntime"):
        return (f"import numpy as np\nimport onnx\nimport onnxruntime as ort\n"
                f"from onnx import TensorProto, helper\n\n"
                f"x = np.array({m}, dtype=np.float32)[None, None]  # (N, C, H, W) = "
                f"(1, 1, {h}, {w})\nnode = {code}\n"
                f'graph = helper.make_graph([node], "pool", '
                f'[helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],\n'
                f'                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])\n'
                f'model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])\n'
                f"session = ort.InferenceSession(model.SerializeToString(), "
                f'providers=["CPUExecutionProvider"])\nout = session.run(None, {{"x": x}})[0][0, 0]\n'
                f"print(out)")
    if framework == "skimage":
        return (f"import numpy as np\nfrom skimage.measure import block_reduce\n\n"
                f"image = np.array({m}, dtype=float)\nout = {code}\nprint(out)")
    if framework == "caffe":
        rows = "\n".join("#   " + " ".join(_number(v) for v in row) for row in x)
        return (f"# A Caffe net (.prototxt) with this layer; feed the blob \"x\", shape "
                f"(1, 1, {h}, {w}):\n{rows}\n"
                f'input: "x"\ninput_shape {{ dim: 1 dim: 1 dim: {h} dim: {w} }}\n'
                f'layer {{\n  name: "pool"\n  type: "Pooling"\n  bottom: "x"\n  top: "y"\n'
                f"  {code}\n}}")
    if framework == "matlab":
        rows = "; ".join(" ".join(_number(v) for v in row) for row in x)
        return (f"x = [{rows}];\nlayer = {code};\n"
                f"net = dlnetwork([imageInputLayer([{h} {w} 1], 'Normalization', 'none'), "
                f"layer]);\nout = extractdata(predict(net, dlarray(x, 'SSCB')))")
    raise ValueError(f"framework={framework!r} has no snippet")
