"""The Image lab's ROI section: ROI pooling and ROI align of a box of the image (issue 18).

A box is typed (x1, y1, x2, y2 in image pixels: the keyboard way) or dragged on the image
(a Plotly box select). The feature map is the image itself, or the image average-pooled
by 2, 4, 8 or 16 (a backbone's stride), read with ``spatial_scale`` = 1/stride, as a
detector's head reads its feature map. The pure helpers come first (tested in
tests/test_roi_view.py); :func:`roi_section` draws the section.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from pooling_core import pool2d, roi_align, roi_align_samples, roi_pool, roi_pool_bins
from ui import budget, figures
from ui import imagelab as lab
from ui.figures import roi as roi_fig

#: spatial_scale: the feature map is the image average-pooled by 1 / scale.
SCALES = (1.0, 0.5, 0.25, 0.125, 0.0625)
SAMPLING = (-1, 1, 2, 3, 4)
MAX_SAMPLES = 40_000_000   # bilinear samples of ROI align per change (about 1 s here)
MAX_DETAIL = 160           # feature-map cells per side drawn in the detail figure
ALIGNED_TEXT = (
    "**aligned**: bilinear interpolation reads cell *i* at coordinate *i* (its centre), while "
    "a box's corners are continuous coordinates, where cell *i* spans *i* to *i* + 1. "
    "`aligned=True` subtracts half a cell from the box first (Detectron2's fix), so a box "
    "from 0 to 2 samples the centres of cells 0 and 1 exactly. `aligned=False` (the "
    "original Mask R-CNN rule, torchvision's default) samples half a cell too far right "
    "and down, and makes every box at least 1×1 cell.")


def scale_label(scale: float) -> str:
    return "1 (the image itself)" if scale == 1 else f"1/{round(1 / scale)} (image pooled by " \
                                                      f"{round(1 / scale)})"


def default_box(h: int, w: int) -> tuple[float, float, float, float]:
    """The middle half of the image, in whole pixels: ``(x1, y1, x2, y2)``."""
    return float(w // 4), float(h // 4), float(w - w // 4), float(h - h // 4)


def box_problem(box, h: int, w: int) -> str | None:
    """What is wrong with ``box = (x1, y1, x2, y2)`` on an ``h × w`` image, or None.

    >>> box_problem((10, 5, 4, 8), 20, 20)
    'x2 (4) must be larger than x1 (10): x1, y1 is the top-left corner, x2, y2 the bottom-right.'
    >>> box_problem((0, 0, 30, 10), 20, 20) is None   # partly outside: the parts inside count
    True
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    if not all(np.isfinite((x1, y1, x2, y2))):
        return "Give four numbers for the box's corners."
    for lo, hi, a, b in (("x1", "x2", x1, x2), ("y1", "y2", y1, y2)):
        if b <= a:
            return (f"{hi} ({b:g}) must be larger than {lo} ({a:g}): x1, y1 is the top-left "
                    f"corner, x2, y2 the bottom-right.")
    if x2 <= 0 or y2 <= 0 or x1 >= w or y1 >= h:
        return (f"The box ({x1:g}, {y1:g}) – ({x2:g}, {y2:g}) lies outside the {w}×{h} image; "
                f"give corners with 0 ≤ x < {w} and 0 ≤ y < {h}.")
    return None


def selection_box(state) -> tuple[float, float, float, float] | None:
    """The last box dragged on the overview figure (``st.plotly_chart``'s selection
    state), as ``(x1, y1, x2, y2)`` rounded to tenths of a pixel; None without one.

    >>> selection_box({"selection": {"box": [{"x": [40.04, 10.0], "y": [5, 30.51]}]}})
    (10.0, 5.0, 40.0, 30.5)
    """
    try:
        boxes = state["selection"]["box"]
    except (KeyError, TypeError):
        return None
    if not boxes:
        return None
    xs, ys = boxes[-1].get("x") or [], boxes[-1].get("y") or []
    if len(xs) < 2 or len(ys) < 2:
        return None
    return (round(float(min(xs)), 1), round(float(min(ys)), 1), round(float(max(xs)), 1),
            round(float(max(ys)), 1))


def feature_map(plane: np.ndarray, scale: float) -> np.ndarray:
    """The map ROI pooling reads: ``plane`` (H, W) average-pooled by ``1 / scale`` (the
    image itself for 1), float32 as a network's feature map, shaped ``(1, 1, H', W')``."""
    k = round(1 / scale)
    m = plane if k == 1 else pool2d(plane, k, k, mode="avg")
    return np.ascontiguousarray(m, dtype=np.float32)[None, None]


def align_samples_count(fmap_shape, box, output_size: int, scale: float, sampling_ratio: int,
                        aligned: bool) -> int:
    """ROI align's bilinear samples for one box: what the budget charges."""
    s = roi_align_samples(fmap_shape, [[0, *box]], output_size, scale, sampling_ratio, aligned)
    return int(s.grid[0].prod()) * output_size * output_size * int(fmap_shape[1])


def roi_results(fmap, box, output_size: int, scale: float, sampling_ratio: int,
                aligned: bool) -> dict:
    """Both poolings of one box and where they read (all from the core)."""
    boxes = [[0, *box]]
    return dict(
        pool=roi_pool(fmap, boxes, output_size, scale)[0, 0],
        align=roi_align(fmap, boxes, output_size, scale, sampling_ratio, aligned)[0, 0],
        bins=roi_pool_bins(fmap.shape, boxes, output_size, scale),
        samples=roi_align_samples(fmap.shape, boxes, output_size, scale, sampling_ratio,
                                  aligned))


def detail_window(box, scale: float, map_hw, margin: int = 2):
    """``(r0, r1, c0, c1, step)``: the map cells around the box that the detail figure
    draws, every ``step``-th so that at most :data:`MAX_DETAIL` a side."""
    x1, y1, x2, y2 = (v * scale for v in box)
    h, w = map_hw
    r0, r1 = max(0, int(np.floor(y1)) - margin), min(h, int(np.ceil(y2)) + margin + 1)
    c0, c1 = max(0, int(np.floor(x1)) - margin), min(w, int(np.ceil(x2)) + margin + 1)
    step = max(1, int(np.ceil(max(r1 - r0, c1 - c0) / MAX_DETAIL)))
    return r0, max(r1, r0 + 1), c0, max(c1, c0 + 1), step


# ----------------------------------------------------------------------------- the section

_BOX_KEYS = ("roi_x1", "roi_y1", "roi_x2", "roi_y2")


@st.cache_resource(max_entries=6, show_spinner=False)
def _map_cached(key: str, channel: str, scale: float, _array: np.ndarray) -> np.ndarray:
    h, w = _array.shape[-2:]
    plane = lab.region_matrix(_array, 0, 0, max(h, w), channel)
    m = feature_map(plane, scale)
    m.flags.writeable = False
    return m


@st.cache_data(max_entries=16, show_spinner=False)
def _results_cached(key: str, channel: str, box: tuple, output_size: int, scale: float,
                    sampling_ratio: int, aligned: bool, _fmap: np.ndarray) -> dict:
    return roi_results(_fmap, box, output_size, scale, sampling_ratio, aligned)


def _box_inputs(h: int, w: int, image_id: str) -> tuple:
    ss = st.session_state
    if ss.get("roi_for") != image_id:  # a new image: its middle half
        ss["roi_for"] = image_id
        ss.pop("roi_applied", None)
        for k, v in zip(_BOX_KEYS, default_box(h, w)):
            ss[k] = v
    picked = selection_box(ss.get("roi_pick"))
    if picked is not None and picked != ss.get("roi_applied"):
        ss["roi_applied"] = picked  # a new drag on the image: the typed corners follow
        for k, v in zip(_BOX_KEYS, picked):
            ss[k] = v
    cols = st.columns(4)
    names = ("x1 (left)", "y1 (top)", "x2 (right)", "y2 (bottom)")
    for col, key, name in zip(cols, _BOX_KEYS, names):
        col.number_input(name, step=1.0, format="%.1f", key=key,
                         help="Box corner in image pixels (x across, y down), as torchvision's "
                              "boxes [batch, x1, y1, x2, y2].")
    return tuple(float(ss[k]) for k in _BOX_KEYS)


def roi_section(array: np.ndarray, screen: np.ndarray, key: str, image_id: str) -> None:
    """Draw the ROI section for the image ``array`` (C, H, W) and its screen preview."""
    h, w = array.shape[-2:]
    st.caption("A detector pools each box it proposes to a fixed grid (7×7 in Faster R-CNN). "
               "ROI pool snaps the box and its bins to whole cells and takes each bin's max; "
               "ROI align keeps the exact box, samples each bin at a grid of points by "
               "bilinear interpolation and averages them.")
    box = _box_inputs(h, w, image_id)
    c1, c2, c3, c4, c5 = st.columns(5)
    output_size = int(c1.slider("Output size", 1, 14, 7, key="roi_out",
                                help="Bins per side (output_size)."))
    scale = c2.selectbox("spatial_scale", SCALES, format_func=scale_label, key="roi_scale",
                         help="The feature map is the image pooled by 1/scale; the box stays "
                              "in image pixels and is multiplied by spatial_scale.")
    sampling = c3.selectbox("sampling_ratio", SAMPLING, key="roi_sampling",
                            help="ROI align's sample points per bin and axis; -1: ceil(bin "
                                 "size), box by box (ONNX writes it 0).")
    aligned = c4.toggle("aligned", key="roi_aligned", help="Shift the box by half a cell "
                        "first (see below).")
    channel = c5.selectbox("Values of", lab.channel_names(array.shape[0]), key="roi_channel",
                           help="ROI pooling reads one map here: a channel or the luminance.")
    st.plotly_chart(roi_fig.roi_overview_figure(screen, (h, w), box), width="stretch",
                    key="roi_pick", on_select="rerun", selection_mode="box")
    problem = box_problem(box, h, w)
    if problem:
        st.warning(problem, icon=":material/crop_free:")
        return
    try:
        with budget.one_at_a_time():
            k = round(1 / scale)
            if k > 1:
                budget.Change().charge((h, w), dict(kernel_size=k, stride=k, mode="avg"),
                                       f"The feature map (the image pooled by {k})")
            fmap = _map_cached(key, channel, scale, array)
            count = align_samples_count(fmap.shape, box, output_size, scale, sampling, aligned)
            if count > MAX_SAMPLES:
                raise budget.OverBudget(
                    f"ROI align would read {count:,} bilinear samples with sampling_ratio "
                    f"{sampling}, more than {MAX_SAMPLES:,} per change on a server shared by a "
                    f"class. Use sampling_ratio 2 (or 1), a smaller spatial_scale or a "
                    f"smaller box.")
            res = _results_cached(key, channel, box, output_size, scale, sampling, aligned, fmap)
    except ValueError as exc:  # the core's message, or OverBudget (a ValueError)
        st.warning(str(exc), icon=":material/block:")
        return
    map_hw = fmap.shape[-2:]
    r0, r1, c0, c1_, step = detail_window(box, scale, map_hw)
    values = fmap[0, 0, r0:r1:step, c0:c1_:step]
    box_map = tuple(v * scale for v in box)
    st.plotly_chart(roi_fig.roi_detail_figure(values, (r0, c0), res["bins"], res["samples"],
                                              box_map, step=step),
                    width="stretch", key="roi_detail")
    grid = res["samples"].grid[0]
    bins = res["bins"]
    st.caption(f"Feature map {map_hw[1]}×{map_hw[0]} cells; the box × {scale:g} is "
               f"({box_map[0]:g}, {box_map[1]:g}) – ({box_map[2]:g}, {box_map[3]:g}). ROI pool "
               f"rounds it to cells {int(bins.cols[0][0, 0])}…{int(bins.cols[0][-1, 1]) - 1} "
               f"across and {int(bins.rows[0][0, 0])}…{int(bins.rows[0][-1, 1]) - 1} down, then "
               f"bins of whole cells (floor/ceil: neighbours can share a cell, "
               f"{int(bins.empty[0].sum())} empty). ROI align: bins of "
               f"{res['samples'].bin_size[0][1]:.3g}×{res['samples'].bin_size[0][0]:.3g} cells, "
               f"{grid[1]}×{grid[0]} samples each.")
    st.plotly_chart(figures.panels_figure([
        dict(values=res["pool"], title=f"ROI pool {output_size}×{output_size} (max)"),
        dict(values=res["align"], title=f"ROI align {output_size}×{output_size} (average)"),
        dict(values=res["align"] - res["pool"], title="align − pool", signed=True,
             colorscale=figures.GRAD_COLORSCALE)]), width="stretch", key="roi_outputs")
    st.markdown(ALIGNED_TEXT)
