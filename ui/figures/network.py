"""Figures of the tiny CNN (``pooling_core.network``): training curves, feature maps,
the cells max pooling kept, and a digit's class probabilities.

Plain functions returning Plotly figures; the pooling window animation on a feature
map is :func:`~ui.figures.sliding.animation_figure` itself, called by the page with
the network's own pooling arguments (``pooling_core.network.pool_kwargs``).
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .common import CHOSEN_COLOR, WINDOW_COLOR, fmt, value_range

LOSS_COLOR = "#1f77b4"
TRAIN_COLOR = "#7f7f7f"
TEST_COLOR = "#d62728"


def training_figure(losses, history, steps_per_epoch: int, epochs: int,
                    title: str = "") -> go.Figure:
    """Loss of every batch (left) and accuracy after every epoch (right), on an x axis of
    epochs from 0 to ``epochs``, so a run in progress fills it from the left.

    ``history``: dicts with ``epoch``, ``train_accuracy`` and ``test_accuracy``
    (``TrainResult.history``).
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss (each batch)",
                                                        "Accuracy (after each epoch)"),
                        horizontal_spacing=0.1)
    losses = np.asarray(losses, dtype=float)
    x = (np.arange(len(losses)) + 1) / max(steps_per_epoch, 1)
    fig.add_trace(go.Scatter(x=x, y=losses, mode="lines", name="training loss",
                             line=dict(color=LOSS_COLOR, width=1.5),
                             hovertemplate="epoch %{x:.2f}: loss %{y:.3f}<extra></extra>"),
                  row=1, col=1)
    ep = [h["epoch"] for h in history]
    for key, name, color, dash in (("train_accuracy", "train (while training)", TRAIN_COLOR,
                                    "dot"), ("test_accuracy", "test", TEST_COLOR, "solid")):
        fig.add_trace(go.Scatter(x=ep, y=[100 * h[key] for h in history], mode="lines+markers",
                                 name=name, line=dict(color=color, dash=dash),
                                 hovertemplate=f"epoch %{{x}}: {name} %{{y:.1f}} %<extra></extra>"),
                      row=1, col=2)
    fig.update_xaxes(title_text="epoch", range=[0, max(epochs, 1) + 0.05], row=1, col=1)
    fig.update_xaxes(title_text="epoch", range=[0.5, max(epochs, 1) + 0.5], dtick=1, row=1, col=2)
    top = max([2.5] + [float(v) for v in losses[:5]]) if len(losses) else 2.5
    fig.update_yaxes(title_text="cross-entropy", range=[0, top * 1.05], row=1, col=1)
    fig.update_yaxes(title_text="%", range=[0, 101], row=1, col=2)
    fig.update_layout(title_text=title, height=330, margin=dict(l=10, r=10, t=70, b=10),
                      legend=dict(orientation="h", y=-0.25), plot_bgcolor="white")
    return fig


def feature_maps_figure(maps, title: str = "", *, columns: int = 8,
                        colorscale="Oranges") -> go.Figure:
    """Every channel of one layer's output ``(C, H, W)`` as a small heatmap, channels
    numbered, all on one colour range (so a weak channel looks weak)."""
    maps = np.asarray(maps, dtype=float)
    if maps.ndim != 3:
        raise ValueError(f"maps has shape {maps.shape}; give (channels, H, W)")
    c, h, w = maps.shape
    cols = min(columns, c)
    rows = -(-c // cols)
    names = [f"channel {i}" for i in range(c)] if c > 1 else None  # one map needs no name
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=names,
                        horizontal_spacing=0.015, vertical_spacing=0.12 / rows)
    lo, hi = value_range(maps)
    for i in range(c):
        fig.add_trace(go.Heatmap(z=maps[i], colorscale=colorscale, zmin=lo, zmax=hi,
                                 showscale=i == 0, xgap=0.5, ygap=0.5, name=f"channel {i}",
                                 colorbar=dict(thickness=10, len=0.9),
                                 hovertemplate=f"channel {i} [%{{y}}, %{{x}}] = %{{z:.3g}}"
                                               f"<extra></extra>"),
                      row=i // cols + 1, col=i % cols + 1)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                     constrain="domain")
    for i in range(c):
        key = "" if i == 0 else str(i + 1)
        fig.update_yaxes(scaleanchor=f"x{key}", row=i // cols + 1, col=i % cols + 1)
    fig.update_annotations(font_size=11)
    fig.update_layout(title_text=title, height=round(rows * min(1000 / cols, 320) + 80),
                      margin=dict(l=10, r=40, t=60, b=10), plot_bgcolor="white")
    return fig


def kept_cells_figure(image, kept, channel: int) -> go.Figure:
    """Which cells max pooling kept, on the input digit.

    ``image`` ``(H, W)``: the network's input; ``kept`` ``(C, H, W)`` bool: the
    cells of each channel of the first convolution's output that won their 2×2
    window. That convolution keeps the size (3×3, padding 1), so cell ``(r, c)`` of a
    feature map is centred on input pixel ``(r, c)``. Left: the input with the
    cells ``channel`` kept outlined; right: in how many channels each cell was kept.
    """
    image = np.asarray(image, dtype=float)
    kept = np.asarray(kept, dtype=bool)
    if kept.ndim != 3 or kept.shape[1:] != image.shape:
        raise ValueError(f"kept has shape {kept.shape}; give (channels, {image.shape[0]}, "
                         f"{image.shape[1]}) like the image")
    count = kept.sum(axis=0)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08, subplot_titles=(
        f"Input: the cells channel {channel} kept", f"Kept in how many of the {len(kept)} channels"))
    fig.add_trace(go.Heatmap(z=image, colorscale="Blues", showscale=False, xgap=0.5, ygap=0.5,
                             hovertemplate="input [%{y}, %{x}] = %{z:.2f}<extra></extra>"),
                  row=1, col=1)
    r, c = np.nonzero(kept[channel])
    fig.add_trace(go.Scatter(x=c, y=r, mode="markers", name="kept", showlegend=False,
                             marker=dict(symbol="square-open", size=13, color=WINDOW_COLOR,
                                         line=dict(width=2.5)),
                             hovertemplate="kept: [%{y}, %{x}]<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Heatmap(z=count, colorscale=[[0, "white"], [1, CHOSEN_COLOR]], zmin=0,
                             zmax=len(kept), xgap=0.5, ygap=0.5, text=count.astype(str),
                             texttemplate="%{text}", colorbar=dict(title="channels", len=0.8),
                             hovertemplate="[%{y}, %{x}]: kept in %{z} channel(s)<extra></extra>"),
                  row=1, col=2)
    for col, key in ((1, ""), (2, "2")):
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{key}", constrain="domain",
                         showgrid=False, zeroline=False, row=1, col=col)
        fig.update_xaxes(constrain="domain", showgrid=False, zeroline=False, row=1, col=col)
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=60, b=10), plot_bgcolor="white")
    return fig


def probabilities_figure(probs, label: int) -> go.Figure:
    """The network's probability for each digit; the prediction highlighted, the true
    label named in the title."""
    probs = np.asarray(probs, dtype=float)
    guess = int(probs.argmax())
    colors = [TEST_COLOR if i == guess else "#bbbbbb" for i in range(len(probs))]
    fig = go.Figure(go.Bar(x=list(range(len(probs))), y=100 * probs, marker_color=colors,
                           text=[fmt(round(100 * p, 1)) for p in probs], textposition="outside",
                           hovertemplate="digit %{x}: %{y:.1f} %<extra></extra>"))
    verdict = "right" if guess == int(label) else "wrong"
    fig.update_layout(title_text=f"Prediction {guess} ({verdict}; the label is {int(label)})",
                      height=300, margin=dict(l=10, r=10, t=50, b=10), plot_bgcolor="white",
                      yaxis=dict(title="probability %", range=[0, 115]),
                      xaxis=dict(dtick=1, title="digit"))
    return fig
