"""Colour-blind-safe colours (issue 17): the window, chosen-cell and padding colours of
ui/figures/common.py stay apart from each other and from the colour scales they are drawn
on, for normal vision and as deuteranopes and protanopes see them (Machado, Oliveira and
Fernandes 2009, severity 1, applied in linear RGB), by the CIE 1976 colour difference
ΔE (2.3 is just noticeable; the thresholds here, 15 to 40, are differences seen at a
glance)."""
import numpy as np
import plotly.colors as pc
import pytest

from ui import gif
from ui.figures import common

# Machado et al. (2009), Table 1, severity 1.0
DEUTERANOPIA = np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                         [-0.011820, 0.042940, 0.968881]])
PROTANOPIA = np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                       [-0.003882, -0.048116, 1.051998]])
VISION = {"normal": None, "deuteranopia": DEUTERANOPIA, "protanopia": PROTANOPIA}


def rgb(color) -> np.ndarray:
    if isinstance(color, str) and color.startswith("#"):
        return np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.array(pc.unlabel_rgb(color)) / 255


def to_linear(c):
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def to_srgb(lin):
    lin = np.clip(lin, 0, 1)
    return np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)


def lab(c):
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ to_linear(c) / np.array([0.95047, 1, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen(color, vision):
    c = rgb(color)
    m = VISION[vision]
    return c if m is None else to_srgb(m @ to_linear(c))


def delta_e(a, b, vision):
    return float(np.linalg.norm(lab(seen(a, vision)) - lab(seen(b, vision))))


def shades(scale, n=11):
    return pc.sample_colorscale(pc.get_colorscale(scale) if isinstance(scale, str) else scale,
                                list(np.linspace(0, 1, n)), colortype="rgb")


def test_the_simulation_sees_what_deuteranopes_see():
    """Red and green collapse, blue and yellow stay: the check can fail."""
    assert delta_e("#ff0000", "#00a000", "normal") > 80
    assert delta_e("#d62728", "#2ca02c", "deuteranopia") < 0.5 * delta_e("#d62728", "#2ca02c",
                                                                          "normal")
    assert delta_e("#0000ff", "#ffff00", "deuteranopia") > 80
    assert np.allclose(seen("#808080", "deuteranopia"), rgb("#808080"), atol=0.01)
    # the colour the window had before: lost against a shade of the output's Oranges
    assert min(delta_e("#d62728", s, "deuteranopia") for s in shades("Oranges")) < 12


@pytest.mark.parametrize("vision", list(VISION))
def test_window_stands_out_on_input_and_output(vision):
    for scale in (common.INPUT_SCALE, common.OUTPUT_SCALE):
        worst = min(delta_e(common.WINDOW_COLOR, s, vision) for s in shades(scale))
        assert worst >= 25, (scale, vision, worst)


@pytest.mark.parametrize("vision", list(VISION))
def test_chosen_cell_stands_out_on_input_and_output(vision):
    for scale in (common.INPUT_SCALE, common.OUTPUT_SCALE):
        worst = min(delta_e(common.CHOSEN_COLOR, s, vision) for s in shades(scale))
        assert worst >= 20, (scale, vision, worst)


@pytest.mark.parametrize("vision", list(VISION))
def test_window_chosen_and_padding_differ_from_each_other(vision):
    pairs = [(common.WINDOW_COLOR, common.CHOSEN_COLOR, 40),
             (common.WINDOW_COLOR, common.PAD_COLOR, 20),
             (common.CHOSEN_COLOR, common.PAD_COLOR, 40),
             (common.PAD_COLOR, common.OVERHANG_COLOR, 20),
             (common.PAD_COLOR, common.PAD_TEXT_COLOR, 40)]
    for a, b, least in pairs:
        assert delta_e(a, b, vision) >= least, (a, b, vision)


@pytest.mark.parametrize("vision", list(VISION))
def test_padding_is_not_a_shade_of_the_input(vision):
    worst = min(delta_e(common.PAD_COLOR, s, vision) for s in shades(common.INPUT_SCALE))
    assert worst >= 15, (vision, worst)


@pytest.mark.parametrize("vision", list(VISION))
def test_gradient_scale_keeps_its_sign(vision):
    """The diverging gradient scale: negative, zero and positive stay three colours."""
    neg, zero, pos = (c for _, c in common.GRAD_COLORSCALE[::2])
    assert delta_e(neg, pos, vision) >= 40
    assert min(delta_e(neg, zero, vision), delta_e(pos, zero, vision)) >= 30


def test_the_gif_draws_the_same_colours():
    assert gif.RED == tuple(int(common.WINDOW_COLOR[i:i + 2], 16) for i in (1, 3, 5))
    assert gif.YELLOW == tuple(int(common.CHOSEN_COLOR[i:i + 2], 16) for i in (1, 3, 5))
    assert gif.EMPTY == tuple(int(common.PAD_COLOR[i:i + 2], 16) for i in (1, 3, 5))
