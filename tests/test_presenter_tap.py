"""ui/tap.py: a chart's hover label, also for a click or a tap (issue 17: phones and
tablets have no hover)."""
import numpy as np
import plotly.graph_objects as go
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from ui import figures, tap


def test_scatter_point_fills_the_template():
    fig = go.Figure(go.Scatter(x=[0, 1, 2], y=[1.23456, 2, 3], customdata=["a", "b", "c"],
                               hovertemplate="x[%{x}] = %{y:.3g}<br>%{customdata}"
                                             "<extra>trace</extra>"))
    assert tap.hover_text(fig, {"curve_number": 0, "point_index": 0, "x": 0, "y": 1.23456}) \
        == "x[0] = 1.23; a"


def test_heatmap_point_reads_text_and_customdata_by_row_and_column():
    fig = go.Figure(go.Heatmap(z=[[1, 2], [3, 4]], text=[["1", "2"], ["3", "4"]],
                               customdata=[["p", "q"], ["r", "s"]],
                               hovertemplate="out[%{y}, %{x}] = %{text} (%{customdata}, "
                                             "z %{z})<extra></extra>"))
    assert tap.hover_text(fig, {"curve_number": 0, "x": 1, "y": 0}) == "out[0, 1] = 2 (q, z 2)"


def test_skipped_and_unlabelled_traces_say_nothing():
    fig = go.Figure([go.Scatter(x=[0], y=[0], hoverinfo="skip"), go.Scatter(x=[0], y=[0])])
    assert tap.hover_text(fig, {"curve_number": 0, "point_index": 0}) is None
    assert tap.hover_text(fig, {"curve_number": 1, "point_index": 0}) is None
    assert tap.hover_text(fig, {"curve_number": 7, "point_index": 0}) is None


def test_the_1d_figure_tells_each_output_on_tap():
    x = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0])
    fig = figures.signal_figure(x, dict(kernel_size=2, stride=2, mode="max"))
    labelled = [i for i, t in enumerate(fig.data) if t.hovertemplate and t.text is not None]
    texts = [tap.hover_text(fig, {"curve_number": labelled[0], "point_index": k})
             for k in range(3)]
    assert texts == ["out[0] = 3", "out[1] = 4", "out[2] = 9"]


def test_pages_with_tappable_charts_run():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/dims.py")
    at.run()
    assert not at.exception
    assert at.get("plotly_chart")


def test_the_playground_output_cell_says_what_it_reads():
    x = np.arange(16).reshape(4, 4)
    fig, _ = figures.animation_figure(x, dict(kernel_size=(2, 2), stride=(2, 2),
                                              padding=(0, 0), mode="max"))
    targets = [i for i, t in enumerate(fig.data) if t.name == figures.CLICK_TARGETS][0]
    selection = {"selection": {"points": [{"curve_number": targets, "point_index": 3,
                                           "x": 1, "y": 1}]}}
    text = tap.selected_text(fig, selection)
    assert text.startswith("out[1, 1]") and text.endswith("reads rows 2–3, cols 2–3"), text
    assert "click" not in text
    assert tap.selected_text(fig, {"selection": {"points": []}}) is None


def test_tappable_charts_save_a_2x_png_from_the_camera():
    import json
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/dims.py")
    at.run()
    configs = [json.loads(c.proto.config) for c in at.get("plotly_chart")]
    assert {"format": "png", "scale": 2, "filename": "poolscope_d1_fig_chart"} in [
        c.get("toImageButtonOptions") for c in configs]
