"""Figure builders: plain functions that return Plotly figures (no Streamlit).

Every window drawn here comes from the core's geometry (``plan_axes`` /
``window_cells``) and every value from the core's pooling, so the pictures show
exactly what the numbers are. Pages import the package (``from ui import figures``)
and call the builders by the names re-exported below; the modules are split by what
they draw:

- ``common``: what every figure shares: colours, ``fmt``/``exact`` and ``cell_text``
  (numbers as a student reads them), ``value_range``, matrix axes (``grid_axes``),
  the Play/Pause controls (``play_controls``, ``scale_controls``) and ``AnimatedFigure``.
- ``windows``: the window each output cell reads: ``Step`` and ``animation_steps``,
  the input grid with its padding (``grid_layers``), a window's outline and hover.
- ``sliding``: the forward animation (``sliding_figure``, ``animation_figure``) and
  reading a click on it back; ``raster`` draws its grids as one SVG picture each.
- ``backward``: the backward pass step by step, and max unpooling.
- ``dims``: the 1-D signal, the 3-D volume, and adaptive pooling's bins.
- ``quiz``: the quiz's input grid: a window, the learner's picks, the answer, a click
  target on every cell (``quiz_figure``, ``picked_cell``).
- ``panels``: still pictures of small matrices (annotated heatmaps, coverage, panels
  side by side).
- ``variants``: the Pooling zoo's figures: every mode side by side, fractional max
  pooling's regions, GeM against LPPool, SoftPool's weights, the spatial pyramid's bins
  and vectors, the BlurPool shift lab.
- ``network``: the tiny CNN of ``pooling_core.network``: training curves, feature
  maps, the cells max pooling kept, class probabilities.

New kinds of figure get a module of their own here (quiz figures in ``quiz``,
figures of pooling variants in ``variants``), built
from ``common`` and ``windows``, and re-exported below. A module imports its
siblings directly (``from .common import fmt``), never this package, and stays
under about 500 lines.
"""
# pandas before plotly: Plotly looks pandas up in sys.modules without importing it, and
# sessions run in parallel threads, so on a fresh server a figure could meet the half-imported
# pandas of another session's page (AttributeError on pandas.Series; bench/load.py, 30 users).
# Importing any module of this package runs this file first.
import pandas  # noqa: F401  (isort: skip)

from .backward import (INDEX_WORD, BackStep, backward_contributions, backward_figure,
                       backward_steps, unpool_figure)
from .common import (CHOSEN_COLOR, GRAD_COLORSCALE, INPUT_SCALE, MODE_WORD, OUTPUT_SCALE,
                     OVERHANG_COLOR, PAD_COLOR, WINDOW_COLOR, AnimatedFigure, exact, fmt,
                     scale_controls)
from .dims import adaptive_figure, signal_figure, volume_scatter_figure, volume_slices_figure
from .network import (feature_maps_figure, kept_cells_figure, probabilities_figure,
                      training_figure)
from .panels import coverage_figure, matrix_figure, panels_figure
from .quiz import PICK_COLOR, QUIZ_TARGETS, picked_cell, quiz_figure
from .sliding import (ANIMATED_TRACES, CLICK_TARGETS, MAX_ANIMATED_CELLS, animation_figure,
                      caption_of, clicked_cell, clicked_step, open_at, sliding_figure)
from .variants import (fractional_figure, gem_curve_figure, pyramid_bins_figure,
                       pyramid_vectors_figure, shift_consistency_figure, shift_outputs_figure,
                       soft_continuum_figure, window_figure, zoo_grid_figure)
from .windows import (Step, animation_steps, grid_layers, pad_value_text, pooled,
                      window_hover, window_shapes)

__all__ = [
    # common
    "WINDOW_COLOR", "CHOSEN_COLOR", "PAD_COLOR", "OVERHANG_COLOR", "MODE_WORD",
    "INPUT_SCALE", "OUTPUT_SCALE",
    "GRAD_COLORSCALE", "AnimatedFigure", "fmt", "exact", "scale_controls",
    # windows
    "Step", "pooled", "pad_value_text", "animation_steps", "grid_layers", "window_shapes",
    "window_hover",
    # sliding
    "ANIMATED_TRACES", "CLICK_TARGETS", "MAX_ANIMATED_CELLS", "sliding_figure",
    "animation_figure", "open_at", "caption_of", "clicked_cell", "clicked_step",
    # backward
    "INDEX_WORD", "BackStep", "backward_contributions", "backward_steps", "backward_figure",
    "unpool_figure",
    # dims
    "signal_figure", "volume_slices_figure", "volume_scatter_figure", "adaptive_figure",
    # panels
    "coverage_figure", "matrix_figure", "panels_figure",
    # quiz
    "PICK_COLOR", "QUIZ_TARGETS", "quiz_figure", "picked_cell",
    # network
    "training_figure", "feature_maps_figure", "kept_cells_figure", "probabilities_figure",
    # variants
    "zoo_grid_figure", "fractional_figure", "gem_curve_figure", "window_figure",
    "soft_continuum_figure", "pyramid_bins_figure", "pyramid_vectors_figure",
    "shift_outputs_figure", "shift_consistency_figure",
]
