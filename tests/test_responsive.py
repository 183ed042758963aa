"""A phone's layout (issue 20): the figure builders' side-by-side panels stacked, each output
at its own height, without changing the figure the desktop gets (ui/responsive.py)."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from ui import figures, responsive

X = np.arange(36).reshape(6, 6)
KW = dict(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1), mode="max",
          ceil_mode=False, count_include_pad=True, pad_value=None)


def builders():
    return {
        "animation": lambda: figures.animation_figure(X, KW)[0],
        "backward": lambda: figures.backward_figure(X, KW, np.ones((3, 3))),
        "panels": lambda: figures.panels_figure([dict(values=X, title="Input x 6×6"),
                                                 dict(values=X[:3, :3], title="Max pool 3×3"),
                                                 dict(values=X[:3, :3], title="Avg pool 3×3")]),
        "unpool": lambda: figures.unpool_figure(X, KW),
    }


@pytest.mark.parametrize("name", list(builders()))
@pytest.mark.parametrize("as_json", [False, True])  # as built, and as a cache gives it back
def test_panels_are_stacked_top_to_bottom(name, as_json):
    fig = builders()[name]()
    if as_json:  # typed arrays (bdata) instead of NumPy arrays, as after a cache's pickling
        fig = type(fig)(json.loads(fig.to_json()))
    before = json.loads(fig.to_json())
    stacked = responsive.stacked(fig)
    assert json.loads(fig.to_json()) == before  # the original (shared by sessions) untouched
    suffixes = responsive._panels(fig)
    assert len(suffixes) >= 2
    lay = stacked.layout
    domains = [lay[f"yaxis{k}"].domain for k in suffixes]
    for upper, lower in zip(domains, domains[1:]):
        assert upper[0] > lower[1]  # each panel below the one before
    assert all(tuple(lay[f"xaxis{k}"].domain) == (0, 1) for k in suffixes)
    assert lay.height > fig.layout.height or lay.height >= 400


def test_an_output_panel_is_drawn_at_its_own_height():
    fig = builders()["panels"]()
    assert tuple(fig.layout.yaxis2.range) == (5.5, -0.5)  # shares the input's rows on a desktop
    assert tuple(responsive.stacked(fig).layout.yaxis2.range) == (2.5, -0.5)


def test_a_figure_of_another_shape_only_gets_smaller_wrapped_titles():
    fig = go.Figure(go.Scatter(y=[1, 2]), layout=dict(title="A long title " * 6))
    out = responsive.stacked(fig)
    assert "<br>" in out.layout.title.text and out.layout.title.font.size == 12
    assert out.layout.yaxis.domain is None


def test_not_a_phone_without_a_browser():
    assert responsive.is_phone() is False
    fig = builders()["panels"]()
    assert responsive.fit(fig) is fig
