"""Fractional max pooling against ``torch.nn.functional.fractional_max_pool2d``.

The oracle is PyTorch 2.13's CPU kernel itself, given explicit ``_random_samples`` so the
windows are reproducible: values and indices must be *equal* (not close), for
``output_size`` and ``output_ratio``, float32 and float64 (ATen computes the window
starts in the input's dtype, and float32 rounding moves some), ties (small integers)
and NaN (the last NaN of a window wins). Gradients against torch autograd, which
routes each output's gradient to its index. Cases come from seeded generators.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from pooling_core import (fractional_intervals, fractional_max_pool2d,
                          fractional_max_pool2d_backward, fractional_windows)

N_CASES = 150


def random_case(seed):
    rng = np.random.default_rng(seed)
    n, c = (int(v) for v in rng.integers(1, 3, size=2))
    h, w = (int(v) for v in rng.integers(2, 30, size=2))
    kh, kw = min(int(rng.integers(1, 4)), h), min(int(rng.integers(1, 4)), w)
    dtype = (np.float32, np.float64)[seed % 2]
    if seed % 3 == 0:  # ties: the first cell of the window in row-major order wins
        x = rng.integers(-2, 3, size=(n, c, h, w)).astype(dtype)
    else:
        x = rng.standard_normal((n, c, h, w)).astype(dtype)
    if seed % 7 == 0:
        x[x > 1.2] = np.nan
    samples = rng.random((n, c, 2)).astype(dtype)
    if seed % 2:
        size = dict(output_size=(int(rng.integers(1, h - kh + 2)), int(rng.integers(1, w - kw + 2))))
    else:  # a ratio that leaves room for the kernel: int(n * r) + k - 1 <= n
        rh = rng.uniform(1 / h, (h - kh + 1) / h) if h - kh + 1 >= 1 else 0.5
        rw = rng.uniform(1 / w, (w - kw + 1) / w) if w - kw + 1 >= 1 else 0.5
        rh, rw = min(max(rh, 1.0001 / h), 0.999), min(max(rw, 1.0001 / w), 0.999)
        if int(h * rh) + kh - 1 > h or int(w * rw) + kw - 1 > w:
            rh, rw = 1.0001 / h, 1.0001 / w
        size = dict(output_ratio=(float(rh), float(rw)))
    return rng, x, (kh, kw), size, samples


@pytest.mark.parametrize("seed", range(N_CASES))
def test_values_indices_and_gradient_equal_torch(seed):
    rng, x, kernel, size, samples = random_case(seed)
    xt = torch.tensor(x, requires_grad=True)
    want, want_idx = F.fractional_max_pool2d(xt, kernel, return_indices=True,
                                             _random_samples=torch.tensor(samples), **size)
    got, idx = fractional_max_pool2d(x, kernel, return_indices=True, samples=samples, **size)
    np.testing.assert_array_equal(got, want.detach().numpy())
    np.testing.assert_array_equal(idx, want_idx.numpy())
    assert got.dtype == x.dtype and idx.dtype == np.int64
    np.testing.assert_array_equal(fractional_max_pool2d(x, kernel, samples=samples, **size),
                                  want.detach().numpy())
    g = rng.standard_normal(want.shape).astype(x.dtype)
    want.backward(torch.tensor(g))
    grad = fractional_max_pool2d_backward(g, x, kernel, samples=samples, **size)
    tol = 1e-5 if x.dtype == np.float32 else 1e-12  # torch adds float32 gradients in float32
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=tol, atol=tol)


def test_many_small_planes_take_the_batched_gather():
    """More planes than PLANE_LOOP are gathered at once (take_along_axis), not one by one."""
    from pooling_core.fractional import PLANE_LOOP
    rng = np.random.default_rng(4)
    x = rng.integers(-3, 4, (3, PLANE_LOOP, 9, 8)).astype(np.float64)
    samples = rng.random((3, PLANE_LOOP, 2))
    for kwargs in (dict(output_size=(5, 4)), dict(output_ratio=(0.5, 0.7))):
        want, idx = F.fractional_max_pool2d(torch.tensor(x), (2, 3), return_indices=True,
                                            _random_samples=torch.tensor(samples),
                                            **{k: v if k == "output_size" else tuple(v)
                                               for k, v in kwargs.items()})
        got, got_idx = fractional_max_pool2d(x, (2, 3), return_indices=True, samples=samples,
                                             **kwargs)
        np.testing.assert_array_equal(got, want.numpy())
        np.testing.assert_array_equal(got_idx, idx.numpy())
        np.testing.assert_array_equal(fractional_max_pool2d(x, (2, 3), samples=samples,
                                                            **kwargs), want.numpy())


def test_unbatched_input_takes_torchs_samples_shape():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 11, 9))
    samples = rng.random((1, 3, 2))
    want, idx = F.fractional_max_pool2d(torch.tensor(x), 2, output_ratio=(0.6, 0.6),
                                        return_indices=True, _random_samples=torch.tensor(samples))
    got, got_idx = fractional_max_pool2d(x, 2, output_ratio=0.6, return_indices=True,
                                         samples=samples)
    np.testing.assert_array_equal(got, want.numpy())
    np.testing.assert_array_equal(got_idx, idx.numpy())
    np.testing.assert_array_equal(fractional_max_pool2d(x, 2, output_ratio=0.6,
                                                        samples=samples[0]), want.numpy())


def test_float32_windows_follow_float32_arithmetic():
    """The starts are computed in the input's dtype: for some samples a float32 start is
    one cell from the float64 one, and torch gives the float32 answer."""
    rng = np.random.default_rng(2)
    for _ in range(1000):
        u = np.float32(rng.random())
        a32 = fractional_intervals(1000, 2, 701, u, np.float32)
        if not np.array_equal(a32, fractional_intervals(1000, 2, 701, float(u), np.float64)):
            break
    else:
        pytest.fail("no sample moved a float32 window")
    x = np.arange(1000, dtype=np.float32)[None, None, None, :].repeat(2, axis=2)
    s = np.array([[[u, 0.1]]], dtype=np.float32)
    want = F.fractional_max_pool2d(torch.tensor(x), (1, 2), output_size=(2, 701),
                                   _random_samples=torch.tensor(s))
    got = fractional_max_pool2d(x, (1, 2), output_size=(2, 701), samples=s)
    np.testing.assert_array_equal(got, want.numpy())
    np.testing.assert_array_equal(got[0, 0, 0], a32 + 1)   # each window's max is its last cell
    assert not np.array_equal(fractional_max_pool2d(x.astype(np.float64), (1, 2),
                                                    output_size=(2, 701), samples=s), got)


def test_all_minus_infinity_window_names_its_first_cell():
    x = np.full((1, 1, 4, 4), -np.inf)
    want, idx = F.fractional_max_pool2d(torch.tensor(x), 2, output_size=2, return_indices=True,
                                        _random_samples=torch.tensor([[[0.3, 0.7]]], dtype=torch.float64))
    got, got_idx = fractional_max_pool2d(x, 2, output_size=2, return_indices=True,
                                         samples=[[[0.3, 0.7]]])
    np.testing.assert_array_equal(got, want.numpy())
    np.testing.assert_array_equal(got_idx, idx.numpy())


def test_windows_are_kernel_wide_at_steps_of_floor_or_ceil_alpha():
    w = fractional_windows((2, 3, 25, 40), 2, output_ratio=(0.7, 0.55), rng=0)
    assert w.rows.shape == (2, 3, 17) and w.cols.shape == (2, 3, 22)
    for starts, n, out in ((w.rows, 25, 17), (w.cols, 40, 22)):
        alpha = (n - 2) / (out - 1)
        steps = np.diff(starts, axis=-1)
        assert set(np.unique(steps)) <= {int(np.floor(alpha)), int(np.ceil(alpha))}
        assert np.all(starts[..., 0] == 0) and np.all(starts[..., -1] == n - 2)
    assert w.samples.shape == (2, 3, 2)


def test_seeded_draws_repeat_and_the_backward_needs_them():
    x = np.random.default_rng(3).standard_normal((1, 2, 9, 9))
    a = fractional_max_pool2d(x, 2, output_ratio=0.5, rng=7)
    np.testing.assert_array_equal(a, fractional_max_pool2d(x, 2, output_ratio=0.5, rng=7))
    grad = fractional_max_pool2d_backward(np.ones(a.shape), x, 2, output_ratio=0.5, rng=7)
    assert grad.sum() == a.size
    with pytest.raises(ValueError, match="needs the forward pass's samples"):
        fractional_max_pool2d_backward(np.ones(a.shape), x, 2, output_ratio=0.5)


@pytest.mark.parametrize("kwargs, match", [
    (dict(), "give output_size or output_ratio"),
    (dict(output_size=3, output_ratio=0.5), "give output_size or output_ratio"),
    (dict(output_ratio=1.0), r"output_ratio=1.0 must lie in \(0, 1\)"),
    (dict(output_ratio=0), "must lie in"), (dict(output_ratio=(0.5, 1.2)), "must lie in"),
    (dict(output_ratio=0.05), "gives an output of"),
    (dict(output_size=9), "needs 10 cells on axis 0"),
    (dict(output_size=0), "output_size=0 must be positive"),
    (dict(output_size=3, samples=np.full((1, 1, 2), 1.0)), r"samples must lie in \[0, 1\)"),
    (dict(output_size=3, samples=np.zeros((1, 2, 2))), "samples has shape"),
])
def test_bad_arguments_raise_naming_the_rule(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fractional_max_pool2d(np.zeros((1, 1, 9, 9)), 2, **kwargs)
