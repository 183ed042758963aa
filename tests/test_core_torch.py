"""PyTorch as the oracle: pooling_core must give torch's numbers, element for element.

Random configurations come from seeded generators (one seed per test case), so a
failure names a reproducible case. Exact equality for max/min values and indices,
1e-5 for everything computed in floating point.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from pooling_core import (adaptive_pool2d, output_size, pool1d, pool2d, pool2d_backward,
                          pool3d, pool_nd_backward)

N_CASES = 250  # per family below; 5 families of 2-D cases plus 1-D/3-D and backward


def random_config(seed, *, dilation=True, ints=False, pad=True):
    """A valid PyTorch pooling configuration and an input for it."""
    rng = np.random.default_rng(seed)
    kh, kw = rng.integers(1, 5, size=2)
    sh, sw = rng.integers(1, 4, size=2)
    ph, pw = rng.integers(0, kh // 2 + 1), rng.integers(0, kw // 2 + 1)
    if not pad:
        ph = pw = 0
    dh, dw = rng.integers(1, 3, size=2) if dilation else (1, 1)
    ceil = bool(rng.integers(2))
    # input at least as large as the dilated window minus padding
    h = int(rng.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 13))
    w = int(rng.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 13))
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 3)), h, w)
    if ints:  # small integers make ties common: index choice must still match
        x = rng.integers(-3, 4, size=shape).astype(np.float64)
    else:
        x = rng.standard_normal(shape)
    cfg = dict(kernel_size=(int(kh), int(kw)), stride=(int(sh), int(sw)),
               padding=(int(ph), int(pw)), ceil_mode=ceil)
    return x, cfg, (int(dh), int(dw))


@pytest.mark.parametrize("seed", range(N_CASES))
def test_max_with_indices(seed):
    x, cfg, dil = random_config(seed, ints=seed % 2 == 0)
    want, want_idx = F.max_pool2d(torch.from_numpy(x), dilation=dil, return_indices=True, **cfg)
    got, idx = pool2d(x, dilation=dil, return_indices=True, **cfg)
    np.testing.assert_array_equal(got, want.numpy())
    np.testing.assert_array_equal(idx, want_idx.numpy())
    np.testing.assert_array_equal(pool2d(x, dilation=dil, **cfg), want.numpy())


@pytest.mark.parametrize("seed", range(N_CASES))
def test_min_is_negated_max(seed):
    x, cfg, dil = random_config(1000 + seed, ints=True)
    want, want_idx = F.max_pool2d(torch.from_numpy(-x), dilation=dil, return_indices=True, **cfg)
    got, idx = pool2d(x, dilation=dil, mode="min", return_indices=True, **cfg)
    np.testing.assert_array_equal(got, -want.numpy())
    np.testing.assert_array_equal(idx, want_idx.numpy())


@pytest.mark.parametrize("seed", range(N_CASES))
def test_avg_both_count_include_pad(seed):
    x, cfg, _ = random_config(2000 + seed, dilation=False)
    for cip in (True, False):
        want = F.avg_pool2d(torch.from_numpy(x), count_include_pad=cip, **cfg).numpy()
        got = pool2d(x, mode="avg", count_include_pad=cip, **cfg)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    if seed % 5 == 0:
        want = F.avg_pool2d(torch.from_numpy(x), divisor_override=3, **cfg).numpy()
        np.testing.assert_allclose(pool2d(x, mode="avg", divisor_override=3, **cfg), want,
                                   rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("seed", range(N_CASES))
def test_lp(seed):
    x, cfg, _ = random_config(3000 + seed, dilation=False, pad=False)
    x = np.abs(x) + 0.1
    norm = [1.0, 2.0, 3.0, 1.5][seed % 4]
    del cfg["padding"]  # LPPool2d has no padding
    want = F.lp_pool2d(torch.from_numpy(x), norm, **cfg).numpy()
    got = pool2d(x, mode="lp", p=norm, **cfg)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("seed", range(N_CASES))
def test_output_size_formula(seed):
    rng = np.random.default_rng(4000 + seed)
    k, s, d = (int(v) for v in rng.integers(1, 6, size=3))
    p = int(rng.integers(0, k // 2 + 1))
    n = int(rng.integers(max(1, d * (k - 1) + 1 - 2 * p), 40))
    ceil = bool(rng.integers(2))
    want = F.max_pool1d(torch.zeros(1, n), k, s, p, d, ceil_mode=ceil).shape[-1]
    assert output_size(n, k, s, p, d, ceil) == want


@pytest.mark.parametrize("seed", range(100))
def test_backward_matches_autograd(seed):
    x, cfg, dil = random_config(5000 + seed, dilation=False, pad=seed % 3 != 0)
    for mode in ("max", "avg", "lp"):
        xt = torch.from_numpy(np.abs(x) + 0.1 if mode == "lp" else x).requires_grad_()
        if mode == "max":
            out = F.max_pool2d(xt, **cfg)
            kwargs = {}
        elif mode == "avg":
            out = F.avg_pool2d(xt, count_include_pad=bool(seed % 2), **cfg)
            kwargs = {"count_include_pad": bool(seed % 2)}
        else:
            if cfg["padding"] != (0, 0):
                continue  # LPPool2d has no padding
            out = F.lp_pool2d(xt, 2.0, **{k: v for k, v in cfg.items() if k != "padding"})
            kwargs = {}
        g = np.random.default_rng(seed).standard_normal(tuple(out.shape))
        out.backward(torch.from_numpy(g))
        got = pool2d_backward(g, xt.detach().numpy(), mode=mode, **{**cfg, **kwargs})
        np.testing.assert_allclose(got, xt.grad.numpy(), rtol=1e-5, atol=1e-5, err_msg=mode)


@pytest.mark.parametrize("seed", range(50))
def test_max_backward_with_dilation_and_ties(seed):
    x, cfg, dil = random_config(6000 + seed, ints=True)
    xt = torch.from_numpy(x).requires_grad_()
    out = F.max_pool2d(xt, dilation=dil, **cfg)
    g = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    out.backward(torch.from_numpy(g))
    got = pool2d_backward(g, x, dilation=dil, **cfg)
    np.testing.assert_allclose(got, xt.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("seed", range(100))
def test_adaptive(seed):
    rng = np.random.default_rng(7000 + seed)
    h, w = (int(v) for v in rng.integers(1, 15, size=2))
    oh, ow = (int(v) for v in rng.integers(1, 8, size=2))
    x = rng.integers(-3, 4, size=(2, h, w)).astype(np.float64)
    want, want_idx = F.adaptive_max_pool2d(torch.from_numpy(x), (oh, ow), return_indices=True)
    got, idx = adaptive_pool2d(x, (oh, ow), return_indices=True)
    np.testing.assert_array_equal(got, want.numpy())
    np.testing.assert_array_equal(idx, want_idx.numpy())
    want = F.adaptive_avg_pool2d(torch.from_numpy(x), (oh, ow)).numpy()
    np.testing.assert_allclose(adaptive_pool2d(x, (oh, ow), mode="avg"), want, atol=1e-12)


@pytest.mark.parametrize("seed", range(60))
def test_pool1d_and_pool3d(seed):
    rng = np.random.default_rng(8000 + seed)
    k, s = int(rng.integers(1, 4)), int(rng.integers(1, 3))
    p = int(rng.integers(0, k // 2 + 1))
    ceil = bool(rng.integers(2))
    x1 = rng.standard_normal((2, 3, int(rng.integers(k, 20))))
    want, want_idx = F.max_pool1d(torch.from_numpy(x1), k, s, p, 1, ceil, return_indices=True)
    got, idx = pool1d(x1, k, s, p, ceil_mode=ceil, return_indices=True)
    np.testing.assert_array_equal(got, want.numpy())
    np.testing.assert_array_equal(idx, want_idx.numpy())
    np.testing.assert_allclose(pool1d(x1, k, s, p, mode="avg", ceil_mode=ceil),
                               F.avg_pool1d(torch.from_numpy(x1), k, s, p, ceil).numpy(),
                               atol=1e-12)
    x3 = rng.standard_normal((1, 2) + tuple(int(v) for v in rng.integers(k, 7, size=3)))
    want, want_idx = F.max_pool3d(torch.from_numpy(x3), k, s, p, 1, ceil, return_indices=True)
    got, idx = pool3d(x3, k, s, p, ceil_mode=ceil, return_indices=True)
    np.testing.assert_array_equal(got, want.numpy())
    np.testing.assert_array_equal(idx, want_idx.numpy())
    for cip in (True, False):
        np.testing.assert_allclose(
            pool3d(x3, k, s, p, mode="avg", ceil_mode=ceil, count_include_pad=cip),
            F.avg_pool3d(torch.from_numpy(x3), k, s, p, ceil, cip).numpy(), atol=1e-12)
    g = rng.standard_normal(tuple(want.shape))
    xt = torch.from_numpy(x3).requires_grad_()
    F.max_pool3d(xt, k, s, p, 1, ceil).backward(torch.from_numpy(g))
    np.testing.assert_allclose(pool_nd_backward(g, x3, 3, k, s, p, ceil_mode=ceil),
                               xt.grad.numpy(), atol=1e-12)


def test_ceil_mode_edge_cases():
    # the clip rule: k=1, s=2 on 32 cells gives 16 windows, not 17
    for n, k, s, p in [(32, 1, 2, 0), (5, 2, 2, 1), (6, 3, 2, 1), (7, 2, 3, 1), (1, 1, 2, 0)]:
        x = np.arange(float(n))[None, None, :].repeat(2, axis=0)
        want = F.max_pool1d(torch.from_numpy(x), k, s, p, ceil_mode=True).numpy()
        np.testing.assert_array_equal(pool1d(x, k, s, p, ceil_mode=True), want)
        want = F.avg_pool1d(torch.from_numpy(x), k, s, p, ceil_mode=True).numpy()
        np.testing.assert_allclose(pool1d(x, k, s, p, mode="avg", ceil_mode=True), want)


def test_nan_propagates_like_torch():
    x = np.array([[[[np.nan, 1.0, np.nan, 2.0], [0.0, 5.0, 1.0, 3.0]]]])
    want, want_idx = F.max_pool2d(torch.from_numpy(x), (2, 2), return_indices=True)
    got, idx = pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(got, want.numpy())
    np.testing.assert_array_equal(idx, want_idx.numpy())
    np.testing.assert_array_equal(np.isnan(pool2d(x, 2, mode="avg")),
                                  np.isnan(F.avg_pool2d(torch.from_numpy(x), 2).numpy()))


def test_windows_of_padding_only_follow_torch():
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    want, want_idx = F.max_pool2d(torch.from_numpy(x), 2, 1, padding=1, dilation=3,
                                  return_indices=True)
    got, idx = pool2d(x, 2, 1, padding=1, dilation=3, return_indices=True)
    np.testing.assert_array_equal(got, want.numpy())  # -inf
    np.testing.assert_array_equal(idx, want_idx.numpy())


def test_float32_and_integer_inputs():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(3, 9, 11)).astype(np.uint8)
    want = F.max_pool2d(torch.from_numpy(x.astype(np.float32)), 3, 2, 1).numpy()
    got = pool2d(x, 3, 2, 1)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, want.astype(np.uint8))
    got = pool2d(x, 3, 2, 1, mode="avg")
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, F.avg_pool2d(torch.from_numpy(x.astype(np.float64)),
                                                 3, 2, 1).numpy())
    xf = rng.standard_normal((2, 8, 8)).astype(np.float32)
    got = pool2d(xf, 2, mode="avg")
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, F.avg_pool2d(torch.from_numpy(xf), 2).numpy(), rtol=1e-5)
