"""GeM, mixed pooling, SoftPool, BlurPool/MaxBlurPool and spatial pyramid pooling against
their references, forward and backward.

Oracles, and why each:

* **GeM** — PyTorch's formula of the GeM layer (cirtorch's
  ``avg_pool2d(x.clamp(min=eps).pow(p), ...).pow(1/p)``), with autograd for the
  gradients with respect to ``x`` and ``p``. There is no GeM in torch itself; this
  formula is the reference implementation. ``p = inf`` against ``max_pool2d`` of the
  clamped input, ``p = 1`` against ``avg_pool2d``.
* **mixed** — ``alpha * max_pool2d + (1 - alpha) * avg_pool2d`` in torch, with autograd
  (the definition; no framework has a layer).
* **SoftPool** — the paper's CPU formula ``avg_pool2d(x * exp(x)) / avg_pool2d(exp(x))``
  (where ``exp`` is finite) and, for any range, ``torch.softmax`` over the unfolded
  windows (stable by construction); gradients by autograd through the latter.
* **BlurPool / MaxBlurPool** — kornia 0.9's ``blur_pool2d`` / ``max_blur_pool2d``
  (zero padding) with autograd, for filter sizes 1-7 and strides 1-3; the
  reflect/replicate padding of ``antialiased_cnns.BlurPool`` (not installable against
  this torch) by its documented rule in torch: ``F.pad(mode)`` then a depthwise
  ``conv2d`` with the binomial filter.
* **spatial pyramid** — ``torch.cat([F.adaptive_max_pool2d(x, b).flatten(1) ...], 1)``.

Random cases come from seeded generators, so a failure names a reproducible case.
float64 inputs are compared to 1e-10 (the same arithmetic in another order); float32
where noted.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
kornia = pytest.importorskip("kornia")
F = torch.nn.functional

from pooling_core import (binomial_filter, blur_pool2d, blur_pool2d_backward, gem_pool2d,
                          gem_pool2d_backward, max_blur_pool2d, max_blur_pool2d_backward,
                          mixed_pool2d, mixed_pool2d_backward, pool2d, pool2d_backward,
                          softpool2d,
                          softpool2d_backward, softpool_weights, spatial_pyramid_bins,
                          spatial_pyramid_pool2d)

N_CASES = 40


def random_window(seed, *, pad=True, dilation=False):
    """A valid avg-pool configuration (torch's padding rule) and a float64 input."""
    rng = np.random.default_rng(seed)
    kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
    sh, sw = (int(v) for v in rng.integers(1, 4, size=2))
    ph, pw = (int(rng.integers(0, k // 2 + 1)) if pad else 0 for k in (kh, kw))
    h, w = int(rng.integers(max(1, kh - 2 * ph), 12)), int(rng.integers(max(1, kw - 2 * pw), 12))
    x = rng.uniform(0.05, 3.0, size=(int(rng.integers(1, 3)), int(rng.integers(1, 3)), h, w))
    cfg = dict(kernel_size=(kh, kw), stride=(sh, sw), padding=(ph, pw),
               ceil_mode=bool(rng.integers(2)))
    return rng, x, cfg


def close(got, want, tol=1e-10):
    np.testing.assert_allclose(got, want.detach().numpy() if hasattr(want, "detach") else want,
                               rtol=tol, atol=tol)


# ----------------------------------------------------------------------------- GeM


@pytest.mark.parametrize("seed", range(N_CASES))
def test_gem_matches_the_reference_formula_and_its_autograd(seed):
    rng, x, cfg = random_window(seed)
    p = float(rng.choice([1.0, 1.5, 2.0, 3.0, 4.5, 8.0]))
    cip = bool(rng.integers(2))
    x[x < 0.3] = -1.0  # below eps: clamped, and no gradient
    xt = torch.tensor(x, requires_grad=True)
    pt = torch.tensor(p, dtype=torch.float64, requires_grad=True)
    want = F.avg_pool2d(xt.clamp(min=1e-6).pow(pt), count_include_pad=cip, **cfg).pow(1 / pt)
    close(gem_pool2d(x, p=p, count_include_pad=cip, **cfg), want)
    g = rng.standard_normal(want.shape)
    want.backward(torch.tensor(g))
    grad_x, grad_p = gem_pool2d_backward(g, x, p=p, count_include_pad=cip, grad_p=True, **cfg)
    close(grad_x, xt.grad)
    assert grad_p == pytest.approx(pt.grad.item(), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_gem_of_an_unsigned_image_takes_the_lp_path_exactly(dtype):
    """Photos (unsigned ints) are pooled through the core's Lp pooling plus a count of the
    zeros the clamp lifts to eps; the numbers are the float formula's."""
    rng = np.random.default_rng(9)
    x = rng.integers(0, 4, (2, 3, 9, 11)).astype(dtype)  # many zeros, and all-zero windows
    for p in (1.0, 3.0, 7.5):
        for cfg in (dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=2, stride=2,
                                                                   padding=1, ceil_mode=True)):
            for cip in (True, False):
                want = F.avg_pool2d(torch.tensor(x.astype(np.float64)).clamp(min=1e-6).pow(p),
                                    count_include_pad=cip, **cfg).pow(1 / p)
                close(gem_pool2d(x, p=p, count_include_pad=cip, **cfg), want, 1e-12)
        close(gem_pool2d(x, p=p), F.avg_pool2d(torch.tensor(x.astype(np.float64))
                                               .clamp(min=1e-6).pow(p), (9, 11)).pow(1 / p))
    big = np.full((1, 1, 4, 4), 60000, dtype=np.uint16)  # 60000**70 overflows: the other path
    np.testing.assert_allclose(gem_pool2d(big, 2, p=70.0), 60000.0, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.uint8, np.float64])
def test_count_include_pad_default_reads_the_padding_as_the_core_does(dtype):
    """None (the default): numeric padding counts (PyTorch), 'same' padding does not
    (TensorFlow), exactly as pool2d's average."""
    x = (np.random.default_rng(11).random((2, 7, 9)) * 100).astype(dtype)
    for padding, counted in ((1, True), ("same", False)):
        for p in (1.0, 3.0):
            np.testing.assert_allclose(gem_pool2d(x, 3, 2, padding, p=p),
                                       gem_pool2d(x, 3, 2, padding, p=p,
                                                  count_include_pad=counted), rtol=1e-12)
        np.testing.assert_allclose(gem_pool2d(x, 3, 2, padding, p=1.0),
                                   pool2d(np.maximum(x, 1e-6), 3, 2, padding, mode="avg"),
                                   rtol=1e-12)
        np.testing.assert_array_equal(mixed_pool2d(x, 3, 2, padding, alpha=0.0),
                                      pool2d(x, 3, 2, padding, mode="avg"))
        np.testing.assert_array_equal(
            mixed_pool2d_backward(np.ones((2, 4, 5)), x, 3, 2, padding, alpha=0.0),
            pool2d_backward(np.ones((2, 4, 5)), x, 3, 2, padding, mode="avg"))


def test_gem_default_is_the_global_gem_layer():
    x = np.random.default_rng(1).uniform(0, 2, (2, 3, 7, 5))
    xt = torch.tensor(x)
    want = F.avg_pool2d(xt.clamp(min=1e-6).pow(3.0), (7, 5)).pow(1 / 3)
    close(gem_pool2d(x), want)
    assert gem_pool2d(x).shape == (2, 3, 1, 1)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_global_gem_equals_one_window_over_the_plane(dtype):
    rng = np.random.default_rng(10)
    x = (rng.random((2, 3, 37, 29)) * 200).astype(dtype)
    x[0, 0] = 0  # a plane of zeros: eps, or 0 with eps = 0
    for p in (1.0, 3.0, 50.0, np.inf):
        for eps in (1e-6, 0.0):
            want = gem_pool2d(x, (37, 29), p=p, eps=eps)
            got = gem_pool2d(x, p=p, eps=eps)
            assert got.shape == (2, 3, 1, 1) and got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert gem_pool2d(x, eps=0.0)[0, 0, 0, 0] == 0


@pytest.mark.parametrize("seed", range(10))
def test_gem_ends_are_average_and_max(seed):
    rng, x, cfg = random_window(100 + seed)
    close(gem_pool2d(x, p=1, **cfg), F.avg_pool2d(torch.tensor(x), **cfg))
    inf = gem_pool2d(x, p=np.inf, **cfg)
    np.testing.assert_array_equal(inf, F.max_pool2d(torch.tensor(x), **cfg).numpy())
    big = gem_pool2d(x, p=400.0, **cfg)
    assert np.all(big <= inf * (1 + 1e-12))
    np.testing.assert_allclose(big, inf, rtol=0.01)  # within N**(1/p) of the max
    xt = torch.tensor(x, requires_grad=True)
    F.max_pool2d(xt, **cfg).backward(torch.ones_like(F.max_pool2d(xt, **cfg)))
    close(gem_pool2d_backward(np.ones(inf.shape), x, p=np.inf, **cfg), xt.grad)


def test_gem_rises_with_p_from_mean_to_max():
    x = np.random.default_rng(2).uniform(0, 5, (1, 1, 6, 6))
    values = [gem_pool2d(x, 3, p=p)[0, 0] for p in (1, 2, 4, 16, 64, np.inf)]
    for a, b in zip(values, values[1:]):
        assert np.all(a <= b + 1e-12)


def test_gem_large_p_needs_no_overflowing_power():
    """The naive formula gives inf (overflow) and 0 (underflow) here; GeM's value is near
    each window's max. The underflow makes the call rescale window by window."""
    x = np.full((1, 1, 4, 4), 1e-3)
    x[0, 0, 0, 0] = 1e3
    got = gem_pool2d(x, 2, p=500.0)
    naive = F.avg_pool2d(torch.tensor(x).pow(500.0), 2).pow(1 / 500).numpy()
    assert np.isinf(naive[0, 0, 0, 0]) and naive[0, 0, 1, 1] == 0
    np.testing.assert_allclose(got[0, 0], [[1e3 / 4 ** (1 / 500), 1e-3], [1e-3, 1e-3]],
                               rtol=1e-12)
    grad = gem_pool2d_backward(np.ones(got.shape), x, 2, p=500.0)
    # d/dc of (mean c**p)**(1/p) at the max of a window of one large value: 4**(-1/p)
    assert np.isfinite(grad).all()
    assert grad[0, 0, 0, 0] == pytest.approx(4 ** (-1 / 500), rel=1e-9)
    np.testing.assert_allclose(grad[0, 0, 2:, 2:], 0.25)   # equal cells: the mean's gradient


def test_gem_differs_from_lppool_by_the_window_count():
    x = np.random.default_rng(3).uniform(0.1, 2, (1, 2, 6, 6))
    for p in (1.0, 2.0, 3.0):
        lp = F.lp_pool2d(torch.tensor(x), p, 3).numpy()
        np.testing.assert_allclose(gem_pool2d(x, 3, p=p) * 9 ** (1 / p), lp, rtol=1e-10)


@pytest.mark.parametrize("kwargs, match", [
    (dict(p=0), "p=0 must be positive"), (dict(p=-2), "p=-2 must be positive"),
    (dict(p=float("nan")), "must be positive"), (dict(p="3"), "p='3' must be a real number"),
    (dict(eps=-1e-6), "eps=-1e-06 must be a finite number >= 0"),
    (dict(kernel_size=0), "kernel_size=0 must be positive"),
])
def test_gem_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gem_pool2d(np.ones((4, 4)), **kwargs)


# ----------------------------------------------------------------------------- mixed


@pytest.mark.parametrize("seed", range(N_CASES))
def test_mixed_matches_the_formula_and_its_autograd(seed):
    rng, x, cfg = random_window(1000 + seed)
    x = rng.integers(-3, 4, x.shape).astype(np.float64)  # ties: the max's index must match
    alpha = float(rng.choice([0.0, 0.25, 0.5, 0.9, 1.0]))
    cip = bool(rng.integers(2))
    xt = torch.tensor(x, requires_grad=True)
    at = torch.tensor(alpha, dtype=torch.float64, requires_grad=True)
    want = at * F.max_pool2d(xt, **cfg) + (1 - at) * F.avg_pool2d(xt, count_include_pad=cip,
                                                                  **cfg)
    close(mixed_pool2d(x, alpha=alpha, count_include_pad=cip, **cfg), want)
    g = rng.standard_normal(want.shape)
    want.backward(torch.tensor(g))
    grad_x, grad_a = mixed_pool2d_backward(g, x, alpha=alpha, count_include_pad=cip,
                                           grad_alpha=True, **cfg)
    close(grad_x, xt.grad)
    assert float(grad_a) == pytest.approx(at.grad.item(), rel=1e-10, abs=1e-12)


def test_mixed_ends_are_avg_and_max_exactly():
    x = np.random.default_rng(4).standard_normal((2, 3, 9, 8))
    np.testing.assert_array_equal(mixed_pool2d(x, 3, 2, 1, alpha=1), pool2d(x, 3, 2, 1))
    np.testing.assert_array_equal(mixed_pool2d(x, 3, 2, 1, alpha=0),
                                  pool2d(x, 3, 2, 1, mode="avg"))


def test_mixed_per_channel_alpha_and_its_gradient():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 6, 6))
    alpha = np.array([0.0, 0.5, 1.0]).reshape(3, 1, 1)
    xt = torch.tensor(x, requires_grad=True)
    at = torch.tensor(alpha, requires_grad=True)
    want = at * F.max_pool2d(xt, 2) + (1 - at) * F.avg_pool2d(xt, 2)
    close(mixed_pool2d(x, 2, alpha=alpha), want)
    g = rng.standard_normal(want.shape)
    want.backward(torch.tensor(g))
    grad_x, grad_a = mixed_pool2d_backward(g, x, 2, alpha=alpha, grad_alpha=True)
    close(grad_x, xt.grad)
    close(grad_a, at.grad)
    assert grad_a.shape == (3, 1, 1)


@pytest.mark.parametrize("alpha, match", [
    (1.5, r"alpha=1.5 must lie in \[0, 1\]"), (-0.1, "must lie in"), (True, "must lie in"),
    ("a", "must be a number"), (np.ones((4, 1, 1)), "does not broadcast"),
])
def test_mixed_rejects_bad_alpha(alpha, match):
    with pytest.raises(ValueError, match=match):
        mixed_pool2d(np.ones((3, 4, 4)), 2, alpha=alpha)


# ----------------------------------------------------------------------------- SoftPool


def softmax_pool(xt, cfg):
    """SoftPool by torch.softmax over the unfolded windows (padding excluded)."""
    n, c, h, w = xt.shape
    k, s, p = cfg["kernel_size"], cfg["stride"], cfg["padding"]
    cols = F.unfold(xt.reshape(n * c, 1, h, w), k, stride=s, padding=p)
    real = F.unfold(torch.ones(1, 1, h, w, dtype=xt.dtype), k, stride=s, padding=p) > 0
    cols = cols.masked_fill(~real, float("-inf"))
    weights = torch.softmax(cols, dim=1)
    out = (weights * cols.masked_fill(~real, 0.0)).sum(dim=1)
    oh = (h + 2 * p[0] - k[0]) // s[0] + 1
    ow = (w + 2 * p[1] - k[1]) // s[1] + 1
    return out.reshape(n, c, oh, ow)


@pytest.mark.parametrize("seed", range(N_CASES))
def test_softpool_matches_softmax_over_windows_and_its_autograd(seed):
    rng, x, cfg = random_window(2000 + seed)
    cfg.pop("ceil_mode")  # unfold has no ceil mode (tested apart below)
    x = rng.standard_normal(x.shape) * rng.choice([1.0, 5.0, 50.0])
    xt = torch.tensor(x, requires_grad=True)
    want = softmax_pool(xt, cfg)
    close(softpool2d(x, **cfg), want)
    g = rng.standard_normal(want.shape)
    want.backward(torch.tensor(g))
    close(softpool2d_backward(g, x, **cfg), xt.grad)


def test_softpool_equals_the_papers_formula_where_it_is_finite():
    rng = np.random.default_rng(6)
    for cfg in (dict(kernel_size=2, stride=2), dict(kernel_size=3, stride=2, padding=1,
                                                  ceil_mode=True)):
        x = rng.standard_normal((2, 3, 9, 10))
        xt = torch.tensor(x)
        e = xt.exp()
        want = F.avg_pool2d(xt * e, **cfg) / F.avg_pool2d(e, **cfg)
        close(softpool2d(x, **cfg), want)


def test_softpool_is_stable_where_the_papers_formula_overflows():
    x = np.array([[[[1000.0, 999.0], [0.0, -1000.0]]]], dtype=np.float32)
    e = torch.tensor(x).exp()
    assert torch.isnan(F.avg_pool2d(torch.tensor(x) * e, 2) / F.avg_pool2d(e, 2)).all()
    w = np.exp([0.0, -1.0])
    assert softpool2d(x, 2)[0, 0, 0, 0] == pytest.approx((1000 * w[0] + 999 * w[1]) / w.sum())
    assert softpool2d(x, 2).dtype == np.float32


def test_softpool_lies_between_mean_and_max_and_weights_sum_to_one():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 2, 8, 8)) * 3
    soft = softpool2d(x, 3, 1, 1)
    assert np.all(soft <= pool2d(x, 3, 1, 1) + 1e-12)
    assert np.all(soft >= pool2d(x, 3, 1, 1, mode="avg", count_include_pad=False) - 1e-12)
    w = softpool_weights(x, 3, 1, 1)
    assert w.shape == (2, 2, 8, 8, 3, 3)
    np.testing.assert_allclose(w.sum(axis=(-2, -1)), 1.0)
    assert np.all(w[:, :, 0, :, 0, :] == 0)  # the top row of the first windows is padding
    assert np.all((w[:, :, 0, 0] > 0).sum(axis=(-2, -1)) == 4)  # a corner: 4 real cells
    assert np.all((w[:, :, 3, 3] > 0).sum(axis=(-2, -1)) == 9)  # inside: all 9
    with pytest.raises(ValueError, match="MAX_DRAWN_CELLS"):
        softpool_weights(np.broadcast_to(0.0, (40, 1000, 1000)), 2)  # (no memory)


# ----------------------------------------------------------------------------- BlurPool


@pytest.mark.parametrize("k", range(1, 8))
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_blur_pool_matches_kornia_with_autograd(k, stride):
    rng = np.random.default_rng(10 * k + stride)
    for shape in ((2, 3, 9, 11), (1, 1, 8, 8), (1, 2, 5, 13)):
        x = rng.standard_normal(shape)
        xt = torch.tensor(x, requires_grad=True)
        want = kornia.filters.blur_pool2d(xt, k, stride)
        got = blur_pool2d(x, k, stride)
        assert got.shape == tuple(want.shape)
        close(got, want, 1e-12)
        g = rng.standard_normal(want.shape)
        want.backward(torch.tensor(g))
        close(blur_pool2d_backward(g, x, k, stride), xt.grad, 1e-12)


@pytest.mark.parametrize("k", range(1, 8))
@pytest.mark.parametrize("stride, max_pool_size", [(1, 2), (2, 2), (2, 3), (3, 2)])
def test_max_blur_pool_matches_kornia_with_autograd(k, stride, max_pool_size):
    rng = np.random.default_rng(100 * k + 10 * stride + max_pool_size)
    x = rng.integers(-2, 3, (2, 3, 10, 9)).astype(np.float64)  # ties in the dense max
    xt = torch.tensor(x, requires_grad=True)
    want = kornia.filters.max_blur_pool2d(xt, k, stride, max_pool_size)
    got = max_blur_pool2d(x, k, stride, max_pool_size)
    assert got.shape == tuple(want.shape)
    close(got, want, 1e-12)
    g = rng.standard_normal(want.shape)
    want.backward(torch.tensor(g))
    close(max_blur_pool2d_backward(g, x, k, stride, max_pool_size), xt.grad, 1e-12)


def test_blur_pool_float32_stays_float32_near_kornia():
    x = np.random.default_rng(11).standard_normal((2, 3, 17, 19)).astype(np.float32)
    for k in (2, 5, 7):
        got = blur_pool2d(x, k)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, kornia.filters.blur_pool2d(torch.tensor(x), k).numpy(),
                                   rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
@pytest.mark.parametrize("k", range(1, 8))
def test_blur_pool_padding_modes_follow_antialiased_cnns_rule(mode, k):
    rng = np.random.default_rng(k)
    a, b = (k - 1) // 2, k // 2
    filt = torch.tensor(binomial_filter(k))[None, None]
    for stride in (1, 2, 3):
        for shape in ((1, 2, 9, 11), (2, 1, 5, 6)):
            x = rng.standard_normal(shape)
            xt = torch.tensor(x, requires_grad=True)
            want = F.conv2d(F.pad(xt, (a, b, a, b), mode=mode), filt.repeat(shape[1], 1, 1, 1),
                            stride=stride, groups=shape[1])
            close(blur_pool2d(x, k, stride, padding_mode=mode), want, 1e-12)
            g = rng.standard_normal(want.shape)
            want.backward(torch.tensor(g))
            close(blur_pool2d_backward(g, x, k, stride, padding_mode=mode), xt.grad, 1e-12)


def test_blur_pool_non_square_filter_and_stride():
    rng = np.random.default_rng(12)
    x = rng.standard_normal((1, 2, 10, 12))
    filt = torch.tensor(binomial_filter((2, 5)))[None, None].repeat(2, 1, 1, 1)
    want = F.conv2d(F.pad(torch.tensor(x), (2, 2, 0, 1)), filt, stride=(3, 2), groups=2)
    close(blur_pool2d(x, (2, 5), (3, 2)), want, 1e-12)


def test_binomial_filter_rows_of_pascals_triangle():
    for k, row in enumerate(([1], [1, 1], [1, 2, 1], [1, 3, 3, 1], [1, 4, 6, 4, 1],
                             [1, 5, 10, 10, 5, 1], [1, 6, 15, 20, 15, 6, 1]), start=1):
        f = binomial_filter(k)
        np.testing.assert_allclose(f, np.outer(row, row) / np.sum(row) ** 2)
        np.testing.assert_allclose(f, kornia.filters.kernels.get_pascal_kernel_2d(k, norm=True).numpy(),
                                   rtol=1e-6)


@pytest.mark.parametrize("call, match", [
    (lambda: blur_pool2d(np.ones((4, 4)), 0), "kernel_size=0 must be positive"),
    (lambda: blur_pool2d(np.ones((4, 4)), 3, 0), "stride=0 must be positive"),
    (lambda: blur_pool2d(np.ones((4, 4)), 3, padding_mode="mirror"), "padding_mode='mirror'"),
    (lambda: blur_pool2d(np.ones((2, 2)), 5, padding_mode="reflect"), "fewer cells"),
    (lambda: max_blur_pool2d(np.ones((2, 2)), 3, max_pool_size=3), "max_pool_size=3"),
    (lambda: blur_pool2d_backward(np.ones((3, 3)), np.ones((4, 4)), 3), "grad_output"),
])
def test_blur_pool_rejects_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_blur_pool_reduces_aliasing_of_a_shifted_stripe_pattern():
    """Zhang's point: blur-pooled outputs of shifted inputs stay close; max pooling's jump."""
    x = np.tile([0.0, 0.0, 1.0, 1.0], 8)[None, :].repeat(8, axis=0)
    shifted = np.roll(x, 1, axis=1)
    jump_max = np.abs(pool2d(x, 2) - pool2d(shifted, 2)).mean()
    jump_blur = np.abs(max_blur_pool2d(x, 4)[:, 1:-1] - max_blur_pool2d(shifted, 4)[:, 1:-1]).mean()
    assert jump_max == pytest.approx(0.5) and jump_blur < jump_max / 2


# ----------------------------------------------------------------------------- SPP


@pytest.mark.parametrize("seed", range(20))
def test_spatial_pyramid_matches_concatenated_adaptive_pooling(seed):
    rng = np.random.default_rng(3000 + seed)
    x = rng.standard_normal((int(rng.integers(1, 3)), int(rng.integers(1, 4)),
                             int(rng.integers(1, 20)), int(rng.integers(1, 20))))
    levels = [(1, 2, 4), (1, 3), (2, (1, 3), 5)][seed % 3]
    for mode, fn in (("max", F.adaptive_max_pool2d), ("avg", F.adaptive_avg_pool2d)):
        want = torch.cat([fn(torch.tensor(x), b).flatten(1) for b in levels], dim=1)
        close(spatial_pyramid_pool2d(x, levels, mode), want)


def test_spatial_pyramid_length_is_fixed_for_any_input_size():
    for h, w in ((1, 1), (3, 7), (64, 48), (101, 13)):
        assert spatial_pyramid_pool2d(np.zeros((2, 5, h, w))).shape == (2, 5 * 21)
    assert spatial_pyramid_pool2d(np.zeros((6, 7))).shape == (21,)


def test_spatial_pyramid_bins_are_the_adaptive_bins():
    levels = spatial_pyramid_bins((7, 5), (1, 2, (3, 4)))
    assert [lv.size for lv in levels] == [(1, 1), (2, 2), (3, 4)]
    rows, cols = levels[2].rows, levels[2].cols
    assert rows[0].tolist() == [0, 2, 4] and rows[1].tolist() == [3, 5, 7]
    assert cols[0].tolist() == [0, 1, 2, 3] and cols[1].tolist() == [2, 3, 4, 5]
    x = np.random.default_rng(8).standard_normal((7, 5))
    maxima = [x[r0:r1, c0:c1].max() for r0, r1 in zip(*rows) for c0, c1 in zip(*cols)]
    np.testing.assert_array_equal(spatial_pyramid_pool2d(x, [(3, 4)]), maxima)


@pytest.mark.parametrize("levels, match", [
    ((), "levels=.. is empty"), (3, "must be a sequence"), ((1, 0), "levels=0 must be positive"),
    ("124", "must be a sequence"),
])
def test_spatial_pyramid_rejects_bad_levels(levels, match):
    with pytest.raises(ValueError, match=match):
        spatial_pyramid_pool2d(np.ones((4, 4)), levels)
