"""The Pooling zoo's pure parts: pooling_core.shift_consistency (against a loop written from
its definition), the helpers of ui/zoo.py (against the core), and the figures of
ui/figures/variants.py (built without a browser, checked against the numbers they draw)."""
import numpy as np
import plotly.graph_objects as go
import pytest

from pooling_core import (blur_pool2d, fractional_max_pool2d, fractional_windows, gem_pool2d,
                          max_blur_pool2d, mixed_pool2d, pool2d, shift_consistency, softpool2d,
                          spatial_pyramid_bins, spatial_pyramid_pool2d, variant_calls,
                          variant_frameworks)
from ui import zoo
from ui.figures import variants as vfig


# ----------------------------------------------------------------------------- shift_consistency


def slow_consistency(ref, new, shift, stride, atol):
    """The definition, one position at a time."""
    dy, dx = shift
    oy, ox = dy // stride, dx // stride
    pairs = []
    for lead in np.ndindex(ref.shape[:-2]):
        for i in range(new.shape[-2]):
            for j in range(new.shape[-1]):
                if i + oy < ref.shape[-2] and j + ox < ref.shape[-1]:
                    pairs.append((ref[lead + (i + oy, j + ox)], new[lead + (i, j)]))
    a, b = np.array(pairs).T
    same = np.mean([abs(p - q) <= atol for p, q in pairs])
    return same, np.corrcoef(a, b)[0, 1], np.mean(np.abs(a - b)), len(pairs)


@pytest.mark.parametrize("seed", range(6))
def test_shift_consistency_matches_its_definition(seed):
    rng = np.random.default_rng(seed)
    ref = rng.integers(0, 4, size=(2, 5, 7)).astype(float)
    new = rng.integers(0, 4, size=(2, int(rng.integers(3, 6)), int(rng.integers(3, 8)))).astype(float)
    shift, stride = (int(rng.integers(0, 4)), int(rng.integers(0, 6))), int(rng.integers(1, 3))
    r = shift_consistency(ref, new, shift, stride, atol=0.5)
    same, corr, change, n = slow_consistency(ref, new, shift, stride, 0.5)
    assert r.unchanged == pytest.approx(same) and r.mean_change == pytest.approx(change)
    assert r.correlation == pytest.approx(corr) and r.positions == n
    assert r.offset == (shift[0] // stride, shift[1] // stride)


def test_shift_consistency_of_zhangs_example():
    """0 0 1 1 0 0 1 1 and its one-pixel shift: max pooling gives 0 1 0 1 then 1 1 1 1."""
    x = np.array([[0., 0, 1, 1, 0, 0, 1, 1, 0]])
    a, b = pool2d(x[:, :8], (1, 2)), pool2d(x[:, 1:9], (1, 2))
    r = shift_consistency(a, b, (0, 1), 2)
    assert (r.unchanged, r.mean_change, r.offset, r.positions) == (0.5, 0.5, (0, 0), 4)
    assert np.isnan(r.correlation)  # one side constant: undefined, not a number made up
    same = shift_consistency(b, b, 0)
    assert same == (1.0, 1.0, 0.0, (0, 0), 4)  # both the same constant: fully consistent


def test_a_shift_by_the_stride_moves_the_output_by_one_cell_exactly():
    x = np.random.default_rng(3).random((6, 20))
    for fn in (lambda v: pool2d(v, 2), lambda v: max_blur_pool2d(v, 3, 2, 2)):
        r = shift_consistency(fn(x[:, :16]), fn(x[:, 2:18]), (0, 2), 2)
        inner = shift_consistency(fn(x[:, :16])[:, 2:7], fn(x[:, 2:18])[:, 1:6], 0)  # no border
        assert r.offset == (0, 1) and inner.unchanged == 1.0
        assert r.unchanged >= 1 - 2 / 7  # only the border columns can differ (the padding)


def test_max_blur_pool_is_more_shift_consistent_than_max_pooling():
    """Zhang's claim on random images, at every odd shift, averaged over seeds."""
    for shift in (1, 3, 5):
        corr = {"max": [], "max_blur": []}
        for seed in range(5):
            sweep = zoo.shift_sweep(zoo.shift_base("random", 16, 24, seed), 16, 24, 3,
                                    ("right", "down", "diagonal")[seed % 3])
            for m in corr:
                corr[m].append(sweep.consistency[m][shift].correlation)
        assert np.mean(corr["max_blur"]) > np.mean(corr["max"]) + 0.1, (shift, corr)


@pytest.mark.parametrize("args, word", [
    ((np.zeros((2, 2)), np.zeros((2, 2)), -1), "shift"),
    ((np.zeros((2, 2)), np.zeros((2, 2)), 0, 0), "stride"),
    ((np.zeros(3), np.zeros(3), 0), "reference"),
    ((np.zeros((2, 2, 2)), np.zeros((3, 2, 2)), 0), "leading"),
    ((np.zeros((2, 4)), np.zeros((2, 4)), (0, 8), 2), "nothing is left"),
    # empty outputs (the variants' fuzzer found the shift named instead), and no NaN from
    # the mean of nothing when a leading axis is empty
    ((np.zeros((1, 0)), np.zeros((1, 0)), (1, 0), 2), "reference .* at least one value"),
    ((np.zeros((0, 2, 2)), np.zeros((0, 2, 2)), 0), "reference .* at least one value"),
])
def test_shift_consistency_names_what_is_wrong(args, word):
    with pytest.raises(ValueError, match=word):
        shift_consistency(*args)
    with pytest.raises(ValueError, match="atol"):
        shift_consistency(np.zeros((2, 2)), np.zeros((2, 2)), 0, atol=-1)


# ----------------------------------------------------------------------------- ui/zoo.py


PARAMS = zoo.ZooParams(kernel=2, stride=2, p=3.0, alpha=0.3, ratio=0.7, seed=4, filter_size=3)


def test_every_mode_is_the_cores():
    x = zoo.make_input("random", 8, 9, 2)
    out = zoo.run_all(x, PARAMS)
    assert list(out) == list(zoo.MODES)
    for mode in zoo.CLASSIC:
        np.testing.assert_array_equal(out[mode], pool2d(x, 2, 2, mode=mode))
    expect = {
        "fractional_max": fractional_max_pool2d(x[None], 2, output_ratio=0.7,
                                                samples=zoo.fractional_samples(4))[0],
        "blur": blur_pool2d(x, 3, 2), "max_blur": max_blur_pool2d(x, 3, 2, 2),
        "gem": gem_pool2d(x, 2, 2, p=3.0), "mixed": mixed_pool2d(x, 2, 2, alpha=0.3),
        "softpool": softpool2d(x, 2, 2), "spatial_pyramid": spatial_pyramid_pool2d(x)[None]}
    for mode, value in expect.items():
        np.testing.assert_array_equal(out[mode], value, err_msg=mode)


def test_a_mode_that_does_not_fit_gives_the_cores_message_not_an_error():
    x = zoo.make_input("random", 4, 4)
    out = zoo.run_all(x, zoo.ZooParams(kernel=4, ratio=0.95))
    assert isinstance(out["fractional_max"], str) and "kernel" in out["fractional_max"]
    assert out["max"].shape == (1, 1)
    with pytest.raises(ValueError, match="mode"):
        zoo.run_mode(x, "nope", PARAMS)
    with pytest.raises(ValueError, match="kind"):
        zoo.make_input("nope", 2, 2)


def test_fractional_regions_step_by_floor_or_ceil_of_alpha():
    for seed in range(8):
        params = zoo.ZooParams(ratio=0.6, seed=seed)
        windows, rows, cols = zoo.fractional_regions((11, 9), params)
        core = fractional_windows((1, 11, 9), 2, output_ratio=0.6,
                                  samples=zoo.fractional_samples(seed))
        np.testing.assert_array_equal(windows.rows, core.rows)
        for steps, n, out in ((rows, 11, 6), (cols, 9, 5)):
            a = (n - 2) / (out - 1)
            assert set(steps.tolist()) <= {int(np.floor(a)), int(np.ceil(a))}
    assert "1.5" in zoo.alpha_text(8, 2, 5) and "1 or 2" in zoo.alpha_text(8, 2, 5)


def test_gem_against_lppool_on_one_window():
    w = np.array([[1., 2.], [3., 6.]])
    for p in (1.0, 2.0, 3.5):
        r = zoo.gem_vs_lp(w, p)
        assert r["gem"] == pytest.approx(np.mean(w ** p) ** (1 / p))
        assert r["lp"] == pytest.approx(np.sum(w ** p) ** (1 / p))
        assert r["lp"] == pytest.approx(r["factor"] * r["gem"])  # N^(1/p): the missing 1/N
    assert zoo.gem_vs_lp(w, np.inf)["gem"] == 6.0 == zoo.gem_vs_lp(w, np.inf)["lp"]
    assert zoo.gem_vs_lp(w, 1.0)["gem"] == pytest.approx(w.mean())


def test_softpool_continuum_goes_from_the_average_to_the_max():
    w = np.array([[1., 2.], [5., 3.]])
    v = zoo.soft_continuum(w, [1e-6, 1.0, 100.0])
    assert v[0] == pytest.approx(w.mean(), abs=1e-4) and v[2] == pytest.approx(5.0)
    assert v[1] == pytest.approx(softpool2d(w, 2)[0, 0])
    assert w.mean() < v[1] < w.max()


def test_code_panel_calls_and_frameworks():
    for mode in zoo.MODES:
        calls = zoo.mode_calls(mode, PARAMS, (8, 8))
        assert calls[0][0] == "Poolscope" and all(c[1] for c in calls)
        if mode not in zoo.CLASSIC:
            names = zoo.frameworks_of(mode, PARAMS, (8, 8))
            assert names == list(dict.fromkeys(c.framework for c in variant_calls(
                mode, **zoo.mode_params(mode, PARAMS))))
            assert set(names) <= set(variant_frameworks()[mode])  # windowed GeM: no cirtorch
            assert [c[1] for c in calls] == [c.call for c in variant_calls(
                mode, **zoo.mode_params(mode, PARAMS))]
    names = zoo.frameworks_of("median", PARAMS, (8, 8))
    assert "PyTorch" not in names and "Poolscope" in names  # PyTorch has no median pooling
    assert "PyTorch" in zoo.frameworks_of("lp", PARAMS, (8, 8))
    assert zoo.default_framework(["Poolscope", "PyTorch", "TensorFlow"], "tensorflow") == "TensorFlow"
    assert zoo.default_framework(["Poolscope", "kornia"], "pytorch") == "kornia"


@pytest.mark.parametrize("direction", list(zoo.DIRECTIONS))
def test_shift_sweep_is_the_cores_at_every_shift(direction):
    base = zoo.shift_base("edge", 16, 18)
    sweep = zoo.shift_sweep(base, 16, 18, 5, direction)
    assert base.shape == (24, 26)
    for s in zoo.SHIFTS:
        dy, dx = zoo.shift_offset(s, direction)
        crop = base[dy:dy + 16, dx:dx + 18]
        np.testing.assert_array_equal(sweep.outputs["max"][s], pool2d(crop, 2, 2))
        np.testing.assert_array_equal(sweep.outputs["max_blur"][s],
                                      max_blur_pool2d(crop, 5, 2, 2, padding_mode="reflect"))
        assert sweep.consistency["max"][s] == shift_consistency(
            sweep.outputs["max"][0], sweep.outputs["max"][s], (dy, dx), 2, atol=0.05 * 8)
    with pytest.raises(ValueError, match="direction"):
        zoo.shift_offset(1, "up")


# ----------------------------------------------------------------------------- figures


def _z(fig, i=0):
    return np.asarray(fig.data[i].z, dtype=float)


def test_zoo_grid_draws_every_output_and_every_message():
    x = zoo.make_input("random", 4, 4)
    out = zoo.run_all(x, zoo.ZooParams(kernel=4, ratio=0.95))
    labels = {m: label for m, (label, _) in zoo.MODES.items()}
    fig = vfig.zoo_grid_figure(x, out, labels)
    assert isinstance(fig, go.Figure)
    drawn = [m for m, o in out.items() if not isinstance(o, str)]
    assert len(fig.data) == 1 + len(drawn)
    np.testing.assert_array_equal(_z(fig, 0), x)
    for trace, m in zip(fig.data[1:], drawn):
        np.testing.assert_array_equal(np.asarray(trace.z, float), np.atleast_2d(out[m]))
    texts = [a.text for a in fig.layout.annotations]
    assert any("kernel" in t for t in texts)  # fractional max's message in its panel
    assert any(t.startswith("GeM 1×1") for t in texts)


def test_fractional_figure_draws_the_cores_boundaries():
    x = zoo.make_input("random", 8, 8)
    windows, _, _ = zoo.fractional_regions(x.shape, PARAMS)
    out = fractional_max_pool2d(x[None], 2, output_ratio=0.7, samples=windows.samples)[0]
    fig = vfig.fractional_figure(x, windows, out, (1, 2))
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert sorted({s.y0 + 0.5 for s in lines if s.x0 == -0.5}) == sorted(windows.rows[0].tolist())
    assert sorted({s.x0 + 0.5 for s in lines if s.y0 == -0.5}) == sorted(windows.cols[0].tolist())
    chosen = [s for s in fig.layout.shapes if s.type == "rect" and s.xref == "x"][0]
    assert (chosen.y0 + 0.5, chosen.x0 + 0.5) == (windows.rows[0][1], windows.cols[0][2])
    np.testing.assert_array_equal(_z(fig, 1), out)


def test_pyramid_bins_figure_outlines_every_bin_of_every_level():
    x = zoo.make_input("random", 5, 7)
    levels = spatial_pyramid_bins(x.shape, (1, 2, 3))
    fig = vfig.pyramid_bins_figure(x, levels)
    assert len(fig.layout.shapes) == 1 + 4 + 9 and len(fig.data) == 3
    vec = {"a": spatial_pyramid_pool2d(x, (1, 2, 3)), "b": spatial_pyramid_pool2d(x[:3], (1, 2, 3))}
    bars = vfig.pyramid_vectors_figure(vec, [1, 4, 9])
    assert [len(t.y) for t in bars.data] == [14, 14]
    assert list(bars.data[1].y) == vec["b"].tolist()


def test_gem_softpool_and_shift_figures_draw_the_numbers_given():
    ps = np.geomspace(1, 64, 10)
    w = np.array([[1., 2.], [3., 4.]])
    fig = vfig.gem_curve_figure(ps, [zoo.gem_vs_lp(w, p)["gem"] for p in ps],
                                [zoo.gem_vs_lp(w, p)["lp"] for p in ps], 2.5, 4.0, np.inf)
    assert fig.data[2].y[0] == 4.0 and fig.data[2].x[0] == 64  # ∞ drawn at the right end
    weights = np.exp(w) / np.exp(w).sum()
    soft = vfig.window_figure(w, weights)
    np.testing.assert_allclose(_z(soft), weights)
    assert "%" in soft.data[0].text[0][0]
    sweep = zoo.shift_sweep(zoo.shift_base("random", 6, 16), 6, 16, 3)
    rows = vfig.shift_outputs_figure(sweep, zoo.SHIFTS, zoo.SHIFT_METHODS, 1, 3)
    np.testing.assert_array_equal(_z(rows, 0)[3], sweep.outputs["max"][3][1])
    cons = vfig.shift_consistency_figure(sweep, zoo.SHIFTS, zoo.SHIFT_METHODS, 3)
    by_panel = {(t.name, t.xaxis): list(t.y) for t in cons.data}
    assert by_panel[("Max pooling", "x3")] == [r.mean_change for r in sweep.consistency["max"]]
    assert by_panel[("MaxBlurPool", "x")] == [r.unchanged for r in sweep.consistency["max_blur"]]
