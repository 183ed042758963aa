"""The Pooling zoo page through app.py (AppTest): every control moves the numbers shown, and
each number shown is the one pooling_core gives. The tabs are lazy (only the open one runs):
each test opens the tab it reads, as a click or a link's ``zoo_tab`` does."""
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from pooling_core import (fractional_max_pool2d, fractional_windows, gem_pool2d, max_blur_pool2d,
                          mixed_pool2d, pool2d, shift_consistency, softpool2d, variant_calls)
import helpers
from ui import figures, zoo

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def at():
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    app.switch_page("pages/zoo.py").run()
    assert not app.exception
    return app


def open_tab(app, name):
    """Open the tab ``name`` (its body runs only then), as a click on it does."""
    app.session_state["zoo_tab"] = name
    app.run()
    assert not app.exception
    return app


def metric(app, label, nth=0):
    """The value of the ``nth`` metric labelled ``label`` on the open tab."""
    return [m.value for m in app.metric if m.label == label][nth]


def markdown(app, start):
    return next(m.value for m in app.markdown if m.value.startswith(start))


def the_input(app):
    ss = app.session_state
    return zoo.make_input(ss["zoo_input"], ss["zoo_rows"], ss["zoo_cols"], ss["zoo_seed"])


def table(app):
    return {r["Mode"]: r["Output"] for r in app.dataframe[0].value.to_dict("records")}


def test_the_grid_lists_every_mode_with_the_cores_output_size(at):
    x = the_input(at)
    assert x.shape == (8, 8)
    shapes = table(at)
    assert set(shapes) == {label for label, _ in zoo.MODES.values()}
    assert shapes["Max"] == "×".join(map(str, pool2d(x, 2).shape))
    at.slider(key="zoo_stride").set_value(1).run()
    at.slider(key="zoo_kernel").set_value(3).run()
    assert not at.exception
    shapes = table(at)
    assert shapes["Max"] == "6×6" == shapes["GeM"] == shapes["SoftPool"]
    assert shapes["Spatial pyramid"] == "1×21"
    at.slider(key="zoo_kernel").set_value(2).run()
    at.slider(key="zoo_stride").set_value(2).run()


def test_only_the_open_tab_runs(at):
    open_tab(at, "Fractional max")
    assert [t.label for t in at.tabs][:len(zoo.TABS)] == list(zoo.TABS)
    assert any(m.value.startswith("**Seed") for m in at.markdown)
    assert not at.metric  # the GeM, SoftPool and shift lab tabs' numbers are not computed
    open_tab(at, "GeM vs LPPool")
    assert metric(at, "GeM") and not any(m.value.startswith("**Seed") for m in at.markdown)
    assert not any(m.label == "SoftPool" for m in at.metric)
    assert table(at)["Max"] == "4×4"  # the grid is drawn whichever tab is open


def test_gem_p_from_one_to_infinity(at):
    open_tab(at, "GeM vs LPPool")
    x = the_input(at)
    window = x[:2, :2]
    gem = gem_pool2d(x, 2, 2, p=3.0)[0, 0]
    assert metric(at, "GeM") == figures.fmt(gem)
    assert metric(at, "LPPool2d") == figures.fmt(pool2d(window, 2, mode="lp", p=3.0)[0, 0])
    assert "LPPool2d = N^(1/p) · GeM" in markdown(at, "With p = 3")
    at.slider(key="zoo_p").set_value(1.0).run()
    assert metric(at, "GeM") == metric(at, "Average") == figures.fmt(window.mean())
    at.toggle(key="zoo_p_inf").set_value(True).run()
    assert metric(at, "GeM") == metric(at, "Max") == figures.fmt(window.max())
    assert at.slider(key="zoo_p").disabled
    at.toggle(key="zoo_p_inf").set_value(False).run()
    at.slider(key="zoo_gem_row").set_value(2).run()
    at.slider(key="zoo_gem_column").set_value(3).run()
    assert metric(at, "GeM") == figures.fmt(gem_pool2d(x, 2, 2, p=1.0)[2, 3])
    at.slider(key="zoo_p").set_value(3.0).run()


def test_mixed_alpha_ends_are_average_and_max(at):
    open_tab(at, "Mixed")
    x = the_input(at)
    for alpha in (0.0, 0.25, 1.0):
        at.slider(key="zoo_alpha").set_value(alpha).run()
        at.slider(key="zoo_mixed_row").set_value(1).run()
        text = markdown(at, "Output (1, 0)")
        value = mixed_pool2d(x, 2, 2, alpha=alpha)[1, 0]
        assert f"**{figures.fmt(value)}**" in text
    assert figures.fmt(pool2d(x, 2)[1, 0]) in text
    at.slider(key="zoo_alpha").set_value(0.0).run()
    assert f"**{figures.fmt(pool2d(x, 2, mode='avg')[1, 0])}**" in markdown(at, "Output (1, 0)")
    at.slider(key="zoo_alpha").set_value(0.5).run()


def test_softpool_cell_is_the_cores(at):
    open_tab(at, "SoftPool")
    x = the_input(at)
    at.slider(key="zoo_soft_row").set_value(3).run()
    at.slider(key="zoo_soft_column").set_value(1).run()
    assert metric(at, "SoftPool") == figures.fmt(softpool2d(x, 2, 2)[3, 1])
    window = x[6:8, 2:4]
    assert metric(at, "Max", -1) == figures.fmt(window.max())
    assert metric(at, "Average", -1) == figures.fmt(window.mean())


def starts(app):
    text = markdown(app, "**Seed")
    rows, cols = re.findall(r"(?:start at|columns at) (\[[^\]]*\])", text)
    return eval(rows), eval(cols)  # noqa: S307 (lists of ints the page wrote)


def test_fractional_ratio_and_reroll(at):
    open_tab(at, "Fractional max")
    x = the_input(at)
    for ratio in (0.7, 0.5, 0.9):
        at.slider(key="zoo_ratio").set_value(ratio).run()
        seed = at.session_state["zoo_frac_seed"]
        w = fractional_windows((1,) + x.shape, 2, output_ratio=ratio,
                               samples=zoo.fractional_samples(seed))
        assert starts(at) == (w.rows[0].tolist(), w.cols[0].tolist())
        expected = fractional_max_pool2d(x[None], 2, output_ratio=ratio, samples=w.samples)[0]
        assert table(at)["Fractional max"] == "×".join(map(str, expected.shape))
    at.button(key="zoo_reroll").click().run()
    assert at.session_state["zoo_frac_seed"] == seed + 1
    w = fractional_windows((1,) + x.shape, 2, output_ratio=0.9,
                           samples=zoo.fractional_samples(seed + 1))
    assert starts(at) == (w.rows[0].tolist(), w.cols[0].tolist())
    assert any("need not be an integer fraction" in i.value for i in at.info)
    assert markdown(at, "**Seed").startswith(f"**Seed {seed + 1}**")


def test_a_fractional_setting_that_does_not_fit_is_a_message(at):
    open_tab(at, "Fractional max")
    at.slider(key="zoo_rows").set_value(4).run()
    at.slider(key="zoo_kernel").set_value(4).run()
    at.slider(key="zoo_ratio").set_value(0.95).run()
    assert not at.exception
    assert any("Fractional max pooling:" in w.value and "kernel" in w.value for w in at.warning)
    at.slider(key="zoo_kernel").set_value(2).run()
    at.slider(key="zoo_rows").set_value(8).run()
    at.slider(key="zoo_ratio").set_value(0.7).run()


def test_pyramid_levels_give_a_fixed_length(at):
    open_tab(at, "Spatial pyramid")
    at.text_input(key="zoo_levels").input("1, 3").run()
    text = markdown(at, "Output length for every input size")
    assert "**10**" in text and text.count("→ 10") == 3
    at.text_input(key="zoo_levels").input("two").run()
    assert any("Pyramid levels" in w.value for w in at.warning) and not at.exception
    at.text_input(key="zoo_levels").input("1, 2, 4").run()


def test_shift_lab_numbers_are_shift_consistency_of_the_cores_outputs(at):
    open_tab(at, "BlurPool shift lab")
    base = zoo.shift_base("random", 16, 24, seed=at.session_state["zoo_seed"])
    for shift, filt, direction in ((1, 3, "right"), (3, 5, "down"), (5, 3, "diagonal"),
                                   (4, 1, "right")):
        at.radio(key="zoo_shift_dir").set_value(direction).run()
        at.slider(key="zoo_shift_filter").set_value(filt).run()
        at.slider(key="zoo_shift").set_value(shift).run()
        assert not at.exception
        dy, dx = zoo.shift_offset(shift, direction)
        for method, fn in (("Max pooling", lambda v: pool2d(v, 2, 2)),
                           ("MaxBlurPool", lambda v: max_blur_pool2d(v, filt, 2, 2,
                                                                     padding_mode="reflect"))):
            r = shift_consistency(fn(base[:16, :24]), fn(base[dy:dy + 16, dx:dx + 24]),
                                  (dy, dx), 2, atol=0.05 * np.ptp(base))
            assert metric(at, f"{method}: mean change") == f"{r.mean_change:.3f}"
            assert metric(at, f"{method}: unchanged") == f"{r.unchanged:.0%}"
            corr = metric(at, f"{method}: correlation")
            assert corr == ("—" if np.isnan(r.correlation) else f"{r.correlation:.3f}")
    # filter size 1 is max pooling itself: the same numbers
    assert metric(at, "Max pooling: mean change") == metric(at, "MaxBlurPool: mean change")
    at.slider(key="zoo_shift").set_value(0).run()
    assert metric(at, "MaxBlurPool: mean change") == "0.000"


def test_code_panel_offers_only_the_frameworks_that_have_the_mode(at):
    open_tab(at, "Code")
    at.selectbox(key="zoo_code_mode").set_value("fractional_max").run()
    fw = at.selectbox(key="zoo_code_fw")
    assert fw.options == ["Poolscope", "PyTorch", "TensorFlow"] and fw.value == "PyTorch"
    calls = variant_calls("fractional_max", kernel_size=2, output_ratio=0.7)
    assert at.code[0].value == calls[1].call
    fw.set_value("TensorFlow").run()
    assert at.code[0].value == calls[3].call and "tf.nn.fractional_max_pool" in at.code[0].value
    at.selectbox(key="zoo_code_mode").set_value("max_blur").run()
    assert at.selectbox(key="zoo_code_fw").options == ["Poolscope", "kornia", "antialiased_cnns"]
    assert "MaxBlurPool2D" in at.code[0].value
    at.selectbox(key="fw").set_value("tensorflow").run()  # the sidebar's framework leads
    at.selectbox(key="zoo_code_mode").set_value("mixed").run()
    assert at.selectbox(key="zoo_code_fw").value == "TensorFlow"
    assert at.code[0].value.startswith("0.5 * tf.nn.max_pool2d")
    at.selectbox(key="fw").set_value("pytorch").run()
    assert at.selectbox(key="zoo_code_fw").value == "PyTorch"
    at.selectbox(key="zoo_code_mode").set_value("median").run()
    assert "PyTorch" not in at.selectbox(key="zoo_code_fw").options
    frameworks = at.dataframe[-1].value
    assert "torchvision, ONNX" in frameworks.set_index("Variant").loc["roi_align", "Frameworks"]
    assert not at.exception


def test_a_typed_input_goes_through_every_mode_and_a_bad_one_keeps_the_last(at):
    open_tab(at, "GeM vs LPPool")
    at.selectbox(key="zoo_input").set_value("typed").run()
    assert not at.exception and at.slider(key="zoo_rows").disabled
    x = np.array([[1., 3, 2, 1, 0], [4, 8, 5, 0, 2], [7, 1, 9, 2, 6], [0, 3, 4, 6, 1],
                  [5, 2, 8, 1, 3]])
    i, j = at.session_state["zoo_gem_row"], at.session_state["zoo_gem_column"]
    assert max(i, j) <= 1  # an earlier pick is pulled back inside the 2×2 output
    assert table(at)["Max"] == "2×2" and metric(at, "GeM") == figures.fmt(
        gem_pool2d(x, 2, 2, p=3.0)[i, j])
    at.text_area(key="zoo_text").input("1 2; 3 x").run()
    assert not at.exception
    assert any("Row 2, value 2" in e.value and "last valid result" in e.value for e in at.error)
    assert table(at)["Max"] == "2×2"  # nothing lost: the last good matrix is still pooled
    at.text_area(key="zoo_text").input("; ".join([" ".join(["1"] * 17)] * 2)).run()
    assert any("at most 16×16" in e.value for e in at.error)
    at.text_area(key="zoo_text").input("1 2 3; 4 5 6; 7 8 9; 1 1 1").run()
    assert not at.error and table(at)["Max"] == "2×1"
    at.selectbox(key="zoo_input").set_value("random").run()
    assert not at.exception


def test_the_zoo_grid_goes_two_panels_a_row_on_a_phone(monkeypatch):
    """Four panels a row are slivers on a 390 px phone: there the grid takes two."""
    from ui import responsive
    monkeypatch.setattr(responsive, "is_phone", lambda: True)
    from ui.figures import variants as vfig
    seen = []
    real = vfig.zoo_grid_figure
    monkeypatch.setattr(vfig, "zoo_grid_figure",
                        lambda *a, **k: seen.append(k.get("per_row")) or real(*a, **k))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/zoo.py")
    at.run()
    assert not at.exception
    assert seen == [2]


def open_link(**query):
    """The zoo as a copied link opens it (``?zoo_tab=…&zoo_p=…``) in a new session."""
    return helpers.open_link("zoo", query)


def test_a_link_reopens_the_same_numbers():
    app = open_link(zoo_tab="GeM vs LPPool", zoo_seed="7", zoo_rows="10", zoo_kernel="3",
                    zoo_stride="1", zoo_p="1.5", zoo_gem_row="4", zoo_gem_column="5")
    x = zoo.make_input("random", 10, 8, seed=7)
    assert table(app)["Max"] == "8×6"
    assert metric(app, "GeM") == figures.fmt(gem_pool2d(x, 3, 1, p=1.5)[4, 5])
    # a picked cell beyond the output (a link made for a larger input) is pulled inside it
    app = open_link(zoo_tab="SoftPool", zoo_soft_row="15", zoo_soft_column="15")
    assert (app.session_state["zoo_soft_row"], app.session_state["zoo_soft_column"]) == (3, 3)
    assert metric(app, "SoftPool") == figures.fmt(softpool2d(the_input(app), 2, 2)[3, 3])


def test_the_reroll_goes_into_the_link_and_a_closed_tab_keeps_its_controls():
    """(The browser writes a moved control into the URL: tests/test_browser_zoo.py.)"""
    app = open_link(zoo_tab="Fractional max")
    app.button(key="zoo_reroll").click().run()
    assert app.query_params["zoo_frac_seed"] == "1"  # the re-roll's seed is in the link
    open_tab(app, "BlurPool shift lab")
    app.slider(key="zoo_shift").set_value(3).run()
    open_tab(app, "Code")
    assert not any(m.label.startswith("Max pooling") for m in app.metric)
    open_tab(app, "BlurPool shift lab")
    assert app.slider(key="zoo_shift").value == 3
    assert metric(app, "MaxBlurPool: mean change") != "0.000"


def test_a_bad_value_in_the_link_is_named_and_the_rest_applies():
    app = open_link(zoo_tab="Nope", zoo_kernel="9", zoo_levels="<b>1</b>", zoo_alpha="0.25")
    notice = next(w.value for w in app.warning if w.value.startswith("**This link"))
    assert "`zoo_tab=Nope` is not one of" in notice
    assert "`zoo_kernel=9` is out of range (1–4)" in notice
    assert "Pyramid levels: `zoo_levels=<b>1</b>` holds more than numbers" in notice
    assert app.session_state["zoo_kernel"] == 2 and app.session_state["zoo_alpha"] == 0.25
    assert any(m.value.startswith("**Seed") for m in app.markdown)  # the first tab is open
