"""The Image lab's modern modes (ui/variants_view.py): output sizes and budget against the
core, and the section through app.py (AppTest), refusals included."""
import numpy as np
import pytest

from helpers import image_captions
from test_roi_view import lab_with, sample_array
from ui import budget, variants_view, zoo
from ui import imagelab as lab

PARAMS = [zoo.ZooParams(), zoo.ZooParams(kernel=3, stride=1, filter_size=5, ratio=0.45),
          zoo.ZooParams(kernel=4, stride=3, filter_size=1, ratio=0.9)]


@pytest.mark.parametrize("mode", variants_view.MODES)
@pytest.mark.parametrize("params", PARAMS)
def test_output_shape_is_the_cores(mode, params):
    x = np.random.default_rng(0).integers(0, 256, (3, 37, 53)).astype(np.uint8)
    assert variants_view.output_shape(x.shape, mode, params) == zoo.run_mode(x, mode, params).shape


def test_the_budget_refuses_what_a_change_may_not_cost_and_says_what_to_change():
    photo = (3, 3000, 4000)  # 12 megapixels, RGB
    for mode in variants_view.MODES:  # every mode's defaults answer on a 12-MP photo
        assert variants_view.check_budget(photo, mode, zoo.ZooParams()) <= budget.MAX_SECONDS
    with pytest.raises(budget.OverBudget, match="would take about .* larger stride"):
        variants_view.check_budget(photo, "max_blur", zoo.ZooParams(stride=1, filter_size=7))
    with pytest.raises(budget.OverBudget, match="values, more than"):
        variants_view.check_budget((4, 6000, 8000), "fractional_max", zoo.ZooParams(ratio=0.95))
    small = variants_view.estimate(photo, "gem", zoo.ZooParams(stride=4))
    assert small < variants_view.estimate(photo, "gem", zoo.ZooParams(stride=2)) / 3


@pytest.fixture(scope="module")
def at():
    return lab_with("img_variants")


@pytest.mark.parametrize("mode", variants_view.MODES)
def test_each_mode_pools_the_whole_image(at, mode):
    at.selectbox(key="var_mode").set_value(mode).run()
    at.slider(key="var_stride").set_value(2).run()
    assert not at.exception and not at.warning
    params = zoo.ZooParams(kernel=at.session_state["var_kernel"], stride=2)
    out = zoo.run_mode(sample_array(at), mode, params)
    assert f"{zoo.MODES[mode][0]}: {lab.size_text(out.shape)}" in image_captions(at)


def test_mode_parameters_reach_the_core(at):
    at.selectbox(key="var_mode").set_value("fractional_max").run()
    at.slider(key="var_ratio").set_value(0.5).run()
    out = zoo.run_mode(sample_array(at), "fractional_max", zoo.ZooParams(ratio=0.5))
    assert f"Fractional max: {lab.size_text(out.shape)}" in image_captions(at)
    at.selectbox(key="var_mode").set_value("blur").run()
    at.slider(key="var_stride").set_value(3).run()
    out = zoo.run_mode(sample_array(at), "blur", zoo.ZooParams(stride=3))
    assert f"BlurPool: {lab.size_text(out.shape)}" in image_captions(at)
    at.slider(key="var_stride").set_value(2).run()


def test_a_change_over_budget_is_refused_with_a_message(at, monkeypatch):
    # a slower GeM (the page's own pooling keeps the real budget)
    monkeypatch.setitem(variants_view.SECONDS_PER_VALUE, "gem", (1e-3, 0.0))
    at.selectbox(key="var_mode").set_value("gem").run()
    assert not at.exception
    assert any("would take about" in w.value and "larger stride" in w.value for w in at.warning)
    assert not any(c.startswith("GeM:") for c in image_captions(at))
