"""The tiny CNN of pooling_core.network: the shipped digits, the network against the same
network in PyTorch (weights copied), finite differences, the optimizers, and training.

PyTorch is the oracle for everything it has: convolutions, max/avg/Lp pooling, the
dense layer, cross-entropy, bilinear resizing, Adam and SGD. It has no stochastic
pooling, so that one is checked twice: in training mode the torch network gathers the
cells our sampling picked (a shared fixed sampling: the same picks on both sides, and
torch's autograd routes the gradient through them), and in test mode torch computes
Caffe's probability-weighted average ``sum(w*x) / sum(w)``, ``w = max(x, 0)``, itself.
"""
import hashlib

import numpy as np
import pytest

from pooling_core import pool2d
from pooling_core import network as nw
from pooling_core.network import (DOWNSAMPLING, Architecture, Network, digits, shift_images,
                                  softmax_cross_entropy, split_indices, train, upsample)

torch = pytest.importorskip("torch")
F = torch.nn.functional

TORCH_CHOICES = [d for d in DOWNSAMPLING if d != "stochastic"]


# ----------------------------------------------------------------------------- data


def test_the_shipped_digits_are_the_uci_test_set():
    images, labels = nw.load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8
    assert labels.shape == (1797,) and labels.dtype == np.uint8
    assert images.min() == 0 and images.max() == 16
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # the content sha256 that assets/make_digits.py prints (and assets/README.md names)
    assert hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest() == \
        "87ff0c9e40dc7e2c0e34e7257799c2e3f3aec1a016363bb11cad869ec428a826"
    assert nw.DIGITS_PATH.stat().st_size < 60_000


def test_a_missing_digits_file_says_how_to_rebuild_it(tmp_path):
    with pytest.raises(ValueError, match="make_digits.py"):
        nw.load_digits(tmp_path / "nothing.npz")


@pytest.mark.parametrize("shape,size", [((8, 8), 16), ((8, 8), 13), ((3, 5), 7), ((8, 8), 4)])
def test_upsample_is_torch_bilinear_without_aligned_corners(shape, size):
    x = np.random.default_rng(0).random((2, 3) + shape)
    expected = F.interpolate(torch.from_numpy(x), size=(size, size), mode="bilinear",
                             align_corners=False).numpy()
    np.testing.assert_allclose(upsample(x, size), expected, rtol=1e-12, atol=1e-12)


def test_the_split_is_stratified_fixed_and_disjoint():
    _, labels = nw.load_digits()
    tr, te = split_indices(labels)
    assert np.intersect1d(tr, te).size == 0 and len(tr) + len(te) == len(labels)
    counts, test_counts = np.bincount(labels), np.bincount(labels[te])
    assert np.all(test_counts == np.round(0.2 * counts))
    again = split_indices(labels)
    assert np.array_equal(tr, again[0]) and np.array_equal(te, again[1])
    d = digits()
    assert d.x_train.shape == (len(tr), 1, 16, 16) and d.x_test.shape == (len(te), 1, 16, 16)
    assert 0 <= d.x_train.min() and d.x_train.max() <= 1
    assert not d.x_train.flags.writeable  # shared by every caller: nobody may change it


@pytest.mark.parametrize("dy,dx", [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (2, -3), (9, 0)])
def test_shift_moves_the_image_and_fills_zeros(dy, dx):
    x = np.arange(1, 1 + 2 * 6 * 7).reshape(2, 6, 7)
    out = shift_images(x, dy, dx)
    for r in range(6):
        for c in range(7):
            r0, c0 = r - dy, c - dx
            want = x[:, r0, c0] if 0 <= r0 < 6 and 0 <= c0 < 7 else 0
            assert np.array_equal(out[:, r, c], np.broadcast_to(want, (2,)))


# ----------------------------------------------------------------------------- architecture


def test_architecture_rejects_bad_arguments():
    with pytest.raises(ValueError, match="downsample='maxx' is unknown"):
        Architecture("maxx")
    with pytest.raises(ValueError, match="channels"):
        Architecture("max", channels=(8,))
    with pytest.raises(ValueError, match="channels"):
        Architecture("max", channels=(0, 4))
    with pytest.raises(ValueError, match="seed=-1"):
        Network(Architecture(), seed=-1)
    with pytest.raises(ValueError, match="epochs=0"):
        train(Architecture(), epochs=0)
    with pytest.raises(ValueError, match="optimizer='rmsprop'"):
        train(Architecture(), optimizer="rmsprop")
    with pytest.raises(ValueError, match=r"x has shape \(2, 16, 16\)"):
        Network(Architecture()).forward(np.zeros((2, 16, 16)))


# ----------------------------------------------------------------------------- torch twin


def _t(a):
    return torch.from_numpy(np.array(a, dtype=np.float64))


def torch_network(net: Network, stochastic_picks=None, fractional_samples=None):
    """The same network in PyTorch, its leaves holding copies of ``net``'s parameters.

    Returns ``(forward, params)``. ``stochastic_picks[i]`` are the flat indices the
    i-th stochastic pooling layer picked (training mode); without them stochastic
    pooling is the test-time weighted average. ``fractional_samples[i]`` are the i-th
    fractional layer's samples (training mode); without them 0.5, the test-time windows.
    """
    params = {k: _t(v).requires_grad_() for k, v in net.params.items()}
    d = net.arch.downsample

    def stochastic(x, i):
        if stochastic_picks is not None:  # gather the shared picks: autograd routes through them
            idx = torch.from_numpy(stochastic_picks[i])
            return x.flatten(2).gather(2, idx.flatten(2)).view(idx.shape)
        w = F.relu(x)
        total = F.avg_pool2d(w, 2) * 4
        num = F.avg_pool2d(w * x, 2) * 4
        return torch.where(total > 0, num / torch.where(total > 0, total, 1), 0)

    def forward(x):
        pools = 0
        for block in (1, 2):
            w, b = params[f"conv{block}.weight"], params[f"conv{block}.bias"]
            x = F.relu(F.conv2d(x, w, b, stride=2 if d == "stride2" else 1, padding=1))
            if d == "max":
                x = F.max_pool2d(x, 2)
            elif d == "avg":
                x = F.avg_pool2d(x, 2)
            elif d == "lp":
                x = F.lp_pool2d(x, 2.0, 2)
            elif d == "stochastic":
                x = stochastic(x, pools)
                pools += 1
            elif d == "fractional":
                u = fractional_samples[pools] if fractional_samples is not None else \
                    nw.fractional_samples(x.shape, None)
                r = nw.FRACTIONAL_RATIO
                x = F.fractional_max_pool2d(x, 2, output_ratio=(r, r), _random_samples=_t(u))
                pools += 1
            elif d == "strided":
                x = F.relu(F.conv2d(x, params[f"down{block}.weight"],
                                    params[f"down{block}.bias"], stride=2))
        return F.linear(x.flatten(1), params["dense.weight"], params["dense.bias"])

    return forward, params


def _batch(n=6, seed=0):
    d = digits()
    idx = np.random.default_rng(seed).choice(len(d.y_train), n, replace=False)
    return np.array(d.x_train[idx], dtype=np.float64), d.y_train[idx]


def _compare_with_torch(net, x, y, forward, params, training, rng=None):
    logits = net.forward(x, training=training, rng=rng)
    loss, g = softmax_cross_entropy(logits, y)
    grad_x = net.backward(g, need_input=True)
    xt = _t(x).requires_grad_()
    logits_t = forward(xt)
    loss_t = F.cross_entropy(logits_t, torch.from_numpy(np.asarray(y)))
    loss_t.backward()
    np.testing.assert_allclose(logits, logits_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    grads = net.grads
    assert grads.keys() == params.keys()
    for k, p in params.items():
        np.testing.assert_allclose(grads[k], p.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    return logits


@pytest.mark.parametrize("downsample", TORCH_CHOICES)
@pytest.mark.parametrize("seed", [0, 7])
def test_forward_and_backward_equal_torch(downsample, seed):
    net = Network(Architecture(downsample), seed=seed, dtype=np.float64)
    for layer in net.layers:  # non-zero biases, so every bias gradient path is exercised
        if "bias" in layer.params:
            layer.params["bias"] = np.random.default_rng(seed).normal(
                0, 0.1, layer.params["bias"].shape)
    x, y = _batch(seed=seed)
    forward, params = torch_network(net)
    _compare_with_torch(net, x, y, forward, params, training=True)


@pytest.mark.parametrize("seed", [0, 3])
def test_stochastic_pooling_equals_torch_with_the_same_picks(seed):
    """Training mode: torch gathers the cells our layers sampled (indices from pool2d with
    the layer's own seed), so forward values and every gradient must agree."""
    net = Network(Architecture("stochastic"), seed=seed, dtype=np.float64)
    x, y = _batch(seed=seed)
    net.forward(x, training=True, rng=np.random.default_rng(seed))
    picks = [pool2d(cache[0], rng=cache[1], return_indices=True,
                    **nw.pool_kwargs("stochastic", True))[1]
             for layer, cache in zip(net.layers, net._caches) if isinstance(layer, nw.Pool)]
    forward, params = torch_network(net, stochastic_picks=picks)
    _compare_with_torch(net, x, y, forward, params, training=True,
                        rng=np.random.default_rng(seed))


@pytest.mark.parametrize("seed", [0, 5])
def test_fractional_max_pooling_equals_torch_with_the_same_windows(seed):
    """Training mode: each batch draws new windows (from the layer's seed); torch's
    fractional_max_pool2d with those _random_samples gives the same logits, and its
    autograd (through the indices) the same gradients."""
    net = Network(Architecture("fractional"), seed=seed, dtype=np.float64)
    x, y = _batch(seed=seed)
    net.forward(x, training=True, rng=np.random.default_rng(seed))
    samples = [nw.fractional_samples(cache[0].shape, cache[1])
               for layer, cache in zip(net.layers, net._caches) if isinstance(layer, nw.Pool)]
    assert len(samples) == 2 and not np.allclose(samples[0], 0.5)  # drawn, not the test-time
    forward, params = torch_network(net, fractional_samples=samples)
    _compare_with_torch(net, x, y, forward, params, training=True,
                        rng=np.random.default_rng(seed))
    assert [row.output_shape[1:] for row in net.arch.summary() if row.name.startswith("pool")] \
        == [(11, 11), (7, 7)]  # 16 · 1/√2 → 11, 11 · 1/√2 → 7: not a whole fraction


def test_stochastic_pooling_at_test_time_is_the_weighted_average_torch_computes():
    net = Network(Architecture("stochastic"), seed=1, dtype=np.float64)
    x, _ = _batch(n=10, seed=1)
    forward, _ = torch_network(net)
    np.testing.assert_allclose(net.forward(x), forward(_t(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="stochastic pooling has no backward pass at test"):
        net.backward(np.ones((10, 10)))


def test_a_test_time_forward_keeps_nothing_so_readers_can_share_a_network():
    net = Network(Architecture("max"), seed=0)
    x, _ = _batch(n=4)
    net.forward(x, training=True)
    net.forward(x)  # a reader's test-time pass drops the training caches too
    with pytest.raises(ValueError, match="backward needs a forward pass with training=True"):
        net.backward(np.ones((4, 10)))
    maps = net.feature_maps(x[:1])
    assert [name for name, _ in maps] == ["input"] + [layer.name for layer in net.layers]
    np.testing.assert_array_equal(maps[-1][1], net.forward(x[:1]))


@pytest.mark.parametrize("downsample", list(DOWNSAMPLING))
def test_parameter_count_and_output_shapes_equal_torch(downsample):
    arch = Architecture(downsample)
    net = Network(arch, dtype=np.float64)
    forward, params = torch_network(net)
    assert arch.params == sum(p.numel() for p in params.values())
    shapes = [a.shape[1:] for name, a in net.feature_maps(np.zeros((1, 1, 16, 16)))[1:]]
    assert shapes == [row.output_shape for row in arch.summary()]
    # multiply-adds: each conv output cell reads c_in*k*k inputs, the dense layer in*out
    macs = 0
    for layer, shape in zip(net.layers, shapes):
        if isinstance(layer, nw.Conv2d):
            macs += int(np.prod(shape)) * layer.c_in * layer.kernel ** 2
        elif isinstance(layer, nw.Dense):
            macs += layer.n_in * layer.n_out
    assert arch.macs == macs


# ----------------------------------------------------------------------------- finite differences


def _numeric_check(net, x, y, rng_seed, h=1e-6, per_tensor=25):
    def loss():
        rng = np.random.default_rng(rng_seed)  # the same stochastic sampling every time
        return softmax_cross_entropy(net.forward(x, training=True, rng=rng), y)

    _, g = loss()
    grad_x = net.backward(g, need_input=True)
    grads = {k: v.copy() for k, v in net.grads.items()}
    pick = np.random.default_rng(1)
    targets = [(k, p) for k, p in net.params.items()] + [("x", x)]
    for name, array in targets:
        analytic = grad_x if name == "x" else grads[name]
        flat = array.reshape(-1)
        for i in pick.choice(flat.size, min(per_tensor, flat.size), replace=False):
            old = flat[i]
            flat[i] = old + h
            up = loss()[0]
            flat[i] = old - h
            down = loss()[0]
            flat[i] = old
            numeric = (up - down) / (2 * h)
            assert numeric == pytest.approx(analytic.reshape(-1)[i], rel=1e-4, abs=1e-7), \
                (name, i)


@pytest.mark.parametrize("downsample", list(DOWNSAMPLING))
def test_gradients_pass_a_finite_difference_check(downsample):
    """A small twin (2 and 3 channels, 8×8 inputs, random values: no ties in a max window)."""
    net = Network(Architecture(downsample, channels=(2, 3), size=8), seed=2, dtype=np.float64)
    for layer in net.layers:
        if "bias" in layer.params:
            layer.params["bias"] = np.random.default_rng(3).normal(0, 0.1,
                                                                     layer.params["bias"].shape)
    rng = np.random.default_rng(4)
    x = rng.random((3, 1, 8, 8))
    y = np.array([0, 3, 9])
    _numeric_check(net, x, y, rng_seed=5)


# ----------------------------------------------------------------------------- optimizers


@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_optimizer_steps_equal_torch(name):
    rng = np.random.default_rng(0)
    params = {"a": rng.normal(size=(3, 4)), "b": rng.normal(size=5)}
    tparams = {k: _t(v).requires_grad_() for k, v in params.items()}
    ours = nw.Adam(lr=0.01) if name == "adam" else nw.SGD(lr=0.05, momentum=0.9)
    theirs = torch.optim.Adam(tparams.values(), lr=0.01) if name == "adam" else \
        torch.optim.SGD(tparams.values(), lr=0.05, momentum=0.9)
    for step in range(4):
        grads = {k: rng.normal(size=v.shape) for k, v in params.items()}
        ours.step(params, grads)
        for k, p in tparams.items():
            p.grad = _t(grads[k])
        theirs.step()
        for k in params:
            np.testing.assert_allclose(params[k], tparams[k].detach().numpy(), rtol=1e-12,
                                       atol=1e-14, err_msg=f"{k} after step {step}")


# ----------------------------------------------------------------------------- training


def test_training_the_default_choice_and_seed_reaches_90_percent():
    """The page's default (max pooling, seed 0, the default epochs) on the 359 test digits:
    about a second of training (bench/bench_network.py times it)."""
    result = train(Architecture(), seed=0, epochs=nw.EPOCHS)
    assert result.test_accuracy >= 0.90, result.history
    assert result.shift_accuracy >= 0.80
    assert len(result.history) == nw.EPOCHS
    losses = [h["loss"] for h in result.history]
    assert losses[-1] < losses[0] / 3  # it learned


def test_training_is_reproducible_for_a_seed_and_reports_progress():
    d = digits()
    small = nw.Digits(d.x_train[:200], d.y_train[:200], d.x_test[:50], d.y_test[:50])
    seen = []
    a = train(Architecture("stochastic"), seed=3, epochs=2, data=small, callback=seen.append)
    b = train(Architecture("stochastic"), seed=3, epochs=2, data=small)
    c = train(Architecture("stochastic"), seed=4, epochs=2, data=small)
    assert a.losses == b.losses and a.test_accuracy == b.test_accuracy
    assert a.losses != c.losses
    steps = 2 * -(-200 // 32)
    assert [p.step for p in seen] == list(range(1, steps + 1))
    assert all(p.steps == steps for p in seen)
    assert [p.epoch for p in seen if p.step % 7 == 0] == [1, 2]  # epochs end every 7 batches
    assert len(a.history) == 2 and a.seconds > 0
    for k, v in a.network.params.items():
        np.testing.assert_array_equal(v, b.network.params[k])


def test_a_callback_that_raises_stops_the_run():
    class Stop(Exception):
        pass

    def stop(progress):
        if progress.step == 3:
            raise Stop

    with pytest.raises(Stop):
        train(Architecture(), seed=0, epochs=1, callback=stop)
