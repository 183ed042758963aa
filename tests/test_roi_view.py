"""The Image lab's ROI section: its helpers and figures against pooling_core, and the section
through app.py (AppTest): typed boxes, every control, bad boxes as messages."""
import base64
import json

import numpy as np
import pytest

from helpers import open_page
from pooling_core import (pool2d, roi_align, roi_align_samples, roi_pool, roi_pool_bins)
from ui import imageio, roi_view
from ui.figures import roi as roi_fig


# ----------------------------------------------------------------------------- helpers


def test_default_box_and_box_problems():
    assert roi_view.default_box(100, 200) == (50.0, 25.0, 150.0, 75.0)
    assert roi_view.box_problem((1, 1, 5, 5), 10, 10) is None
    assert "y2 (3) must be larger than y1 (4)" in roi_view.box_problem((1, 4, 5, 3), 10, 10)
    assert "x2 (2) must be larger than x1 (2)" in roi_view.box_problem((2, 1, 2, 5), 10, 10)
    assert "outside the 10×8 image" in roi_view.box_problem((12, 1, 20, 5), 8, 10)
    assert "four numbers" in roi_view.box_problem((np.nan, 1, 2, 5), 8, 10)


def test_selection_box_reads_the_last_dragged_box():
    state = {"selection": {"box": [{"x": [1, 2], "y": [3, 4]},
                                   {"x": [30.26, 5.0], "y": [9.0, 2.04]}], "points": []}}
    assert roi_view.selection_box(state) == (5.0, 2.0, 30.3, 9.0)
    for empty in (None, {}, {"selection": {"box": []}}, {"selection": {"box": [{"x": [1]}]}}):
        assert roi_view.selection_box(empty) is None


def test_feature_map_is_the_image_pooled_by_the_stride():
    plane = np.arange(64.0).reshape(8, 8)
    np.testing.assert_array_equal(roi_view.feature_map(plane, 1.0)[0, 0], plane)
    m = roi_view.feature_map(plane, 0.25)
    assert m.shape == (1, 1, 2, 2) and m.dtype == np.float32
    np.testing.assert_array_equal(m[0, 0], pool2d(plane, 4, 4, mode="avg"))


@pytest.mark.parametrize("scale, sampling, aligned", [(1.0, -1, False), (0.5, 2, True),
                                                      (0.25, 1, False)])
def test_roi_results_are_the_cores(scale, sampling, aligned):
    plane = np.random.default_rng(0).random((40, 60)) * 255
    fmap = roi_view.feature_map(plane, scale)
    box = (5.3, 7.0, 41.8, 30.2)
    res = roi_view.roi_results(fmap, box, 5, scale, sampling, aligned)
    boxes = [[0, *box]]
    np.testing.assert_array_equal(res["pool"], roi_pool(fmap, boxes, 5, scale)[0, 0])
    np.testing.assert_array_equal(res["align"],
                                  roi_align(fmap, boxes, 5, scale, sampling, aligned)[0, 0])
    np.testing.assert_array_equal(res["bins"].rows, roi_pool_bins(fmap.shape, boxes, 5, scale).rows)
    s = roi_align_samples(fmap.shape, boxes, 5, scale, sampling, aligned)
    np.testing.assert_array_equal(res["samples"].x, s.x)
    assert roi_view.align_samples_count(fmap.shape, box, 5, scale, sampling, aligned) == \
        int(s.grid[0].prod()) * 25


def test_detail_window_covers_the_box_and_stays_small():
    r0, r1, c0, c1, step = roi_view.detail_window((10, 20, 30, 40), 1.0, (100, 100))
    assert (r0, r1, c0, c1, step) == (18, 43, 8, 33, 1)
    r0, r1, c0, c1, step = roi_view.detail_window((0, 0, 4000, 3000), 1.0, (3000, 4000))
    assert (r0, c0) == (0, 0) and (r1, c1) == (3000, 4000)
    assert max(-(-(r1 - r0) // step), -(-(c1 - c0) // step)) <= roi_view.MAX_DETAIL


# ----------------------------------------------------------------------------- figures


def test_detail_figure_draws_the_cores_bins_and_samples():
    plane = np.random.default_rng(1).random((30, 30))
    fmap = roi_view.feature_map(plane, 1.0)
    box = (3.2, 4.7, 20.1, 17.9)
    res = roi_view.roi_results(fmap, box, 3, 1.0, 2, True)
    fig = roi_fig.roi_detail_figure(plane[2:20, 1:23], (2, 1), res["bins"], res["samples"], box)
    pool_rects = [s for s in fig.layout.shapes if s.type == "rect"
                  and s.line.color == roi_fig.POOL_COLOR]
    expected = {(c - 0.5, a - 0.5) for a, _ in res["bins"].rows[0] for c, _ in res["bins"].cols[0]}
    assert {(s.x0, s.y0) for s in pool_rects} == expected and len(pool_rects) == 9
    samples = next(t for t in fig.data if t.name == "ROI align samples")
    ys, xs = res["samples"].y[0].ravel(), res["samples"].x[0].ravel()
    assert len(samples.x) == 36  # 3×3 bins, 2×2 samples each
    assert sorted(set(np.round(samples.y, 6))) == sorted(set(np.round(ys, 6)))
    assert sorted(set(np.round(samples.x, 6))) == sorted(set(np.round(xs, 6)))
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert len(lines) == 8  # 4 column edges and 4 row edges of the exact bins
    assert min(s.x0 for s in lines if s.x0 == s.x1) == pytest.approx(3.2 - 0.5)  # aligned


def test_detail_figure_skips_too_many_samples_and_overview_draws_the_box():
    fmap = roi_view.feature_map(np.zeros((400, 400)), 1.0)
    res = roi_view.roi_results(fmap, (0, 0, 399, 399), 7, 1.0, -1, False)
    fig = roi_fig.roi_detail_figure(np.zeros((100, 100)), (0, 0), res["bins"], res["samples"],
                                    (0, 0, 399, 399), step=4)
    assert "too many to draw" in fig.layout.title.text
    assert not any(t.name == "ROI align samples" for t in fig.data)
    over = roi_fig.roi_overview_figure(np.zeros((30, 40, 3), np.uint8), (300, 400), (1, 2, 3, 4))
    rect = over.layout.shapes[0]
    assert (rect.x0, rect.y0, rect.x1, rect.y1) == (1, 2, 3, 4)
    assert over.layout.dragmode == "select" and over.data[0].dx == 10


# ----------------------------------------------------------------------------- the page


def charts(at):
    return {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def outputs_chart(at):
    return next(spec for spec in charts(at).values()
                if any("ROI pool" in str(a.get("text", "")) for a in
                       spec["layout"].get("annotations", [])))


def lab_with(section: str):
    """The Image lab through app.py with one of its sections open (as a click on it)."""
    app = open_page()
    app.session_state[section] = True
    app.run()
    assert not app.exception
    return app


def sample_array(at):
    """The sample image the page shows, decoded as the page decodes it."""
    name = at.session_state["img_sample"]
    return imageio.load_image(imageio.sample_images()[name].read_bytes(), name).array


@pytest.fixture(scope="module")
def at():
    return lab_with("img_roi")


def the_plane(at):
    array = sample_array(at)
    return imageio.to_grayscale(array)[0] if array.shape[0] >= 3 else array[0]


def box(at):
    return tuple(at.session_state[k] for k in ("roi_x1", "roi_y1", "roi_x2", "roi_y2"))


def decoded(z):
    """A figure's array as sent to the browser: a list, or Plotly's typed array."""
    if isinstance(z, dict):
        shape = tuple(int(n) for n in str(z["shape"]).split(","))
        return np.frombuffer(base64.b64decode(z["bdata"]), z["dtype"]).reshape(shape)
    return np.array(z, float)


def shown_outputs(at):
    spec = outputs_chart(at)
    return decoded(spec["data"][0]["z"]), decoded(spec["data"][1]["z"])


def check_outputs(at, scale=1.0, sampling=-1, aligned=False, size=7):
    plane = the_plane(at)
    fmap = roi_view.feature_map(plane, scale)
    boxes = [[0, *box(at)]]
    pool, align = shown_outputs(at)
    np.testing.assert_array_equal(pool, roi_pool(fmap, boxes, size, scale)[0, 0])
    np.testing.assert_allclose(align, roi_align(fmap, boxes, size, scale, sampling, aligned)[0, 0],
                               rtol=1e-6)


def test_the_default_box_is_the_middle_half_and_its_outputs_are_the_cores(at):
    h, w = the_plane(at).shape
    assert box(at) == roi_view.default_box(h, w)
    check_outputs(at)
    assert any("ROI pool rounds it" in c.value for c in at.caption)


def test_a_typed_box_and_every_control(at):
    for key, value in zip(("roi_x1", "roi_y1", "roi_x2", "roi_y2"), (10.5, 20.0, 90.3, 61.7)):
        at.number_input(key=key).set_value(value).run()
    assert box(at) == (10.5, 20.0, 90.3, 61.7)
    check_outputs(at)
    at.slider(key="roi_out").set_value(4).run()
    at.selectbox(key="roi_sampling").set_value(2).run()
    at.toggle(key="roi_aligned").set_value(True).run()
    check_outputs(at, sampling=2, aligned=True, size=4)
    at.selectbox(key="roi_scale").set_value(0.25).run()
    check_outputs(at, scale=0.25, sampling=2, aligned=True, size=4)
    assert any("Feature map" in c.value and "the box × 0.25" in c.value for c in at.caption)
    at.selectbox(key="roi_scale").set_value(1.0).run()
    assert not at.exception


def test_bad_boxes_get_a_clear_message_and_no_traceback(at):
    at.number_input(key="roi_x2").set_value(5.0).run()  # left of x1 = 10.5
    assert not at.exception
    assert any("x2 (5) must be larger than x1 (10.5)" in w.value for w in at.warning)
    at.number_input(key="roi_x1").set_value(5000.0).run()
    at.number_input(key="roi_x2").set_value(6000.0).run()
    assert any("lies outside" in w.value for w in at.warning)
    at.number_input(key="roi_x1").set_value(10.0).run()
    at.number_input(key="roi_x2").set_value(60.0).run()
    assert not [w for w in at.warning if "box" in w.value.lower()]
    check_outputs(at, sampling=2, aligned=True, size=4)
