"""Presenter mode (ui/presenter.py) through app.py with AppTest: the link flag, the toggle,
the step bar driving the playground's animation, large figures, and the key bindings."""
import json

import numpy as np
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from test_playground import caption
from ui import figures, presenter

APP = str(ROOT / "app.py")


def open_playground(**query):
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/playground.py")
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def spec(at):
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def styles(at):
    return [m.value for m in at.markdown if "<style>" in m.value]


def test_off_by_default_nothing_changes():
    at = open_playground()
    assert at.toggle(key="present").value is False
    assert not styles(at)
    assert not [b for b in at.button if b.key and b.key.startswith("present_")]


def test_link_flag_turns_it_on_with_large_text_and_the_step_bar():
    at = open_playground(present="1")
    assert at.toggle(key="present").value is True
    assert any("font-size: 1.5rem" in css for css in styles(at))
    assert at.button(key="present_prev").disabled  # on the first step
    assert any("Step 1 of 9" in m.value for m in at.markdown)
    layout = spec(at)["layout"]
    assert layout["font"]["size"] == presenter.FONT_SIZE
    assert layout["title"]["font"]["size"] == presenter.TITLE_SIZE
    (cap,) = [t for t in spec(at)["data"] if t.get("name") == "caption"]  # the step caption
    assert cap["textfont"]["size"] == presenter.TITLE_SIZE - 2


def test_step_buttons_move_the_animation():
    at = open_playground(present="1", src="Preset", in_preset="Seed example (4×4)")
    assert caption(spec(at)).startswith("out[0, 0] = max(1, 3, 4, 8)")
    at.button(key="present_next").click().run()
    assert caption(spec(at)).startswith("out[0, 1] = max(2, 1, 5, 0)")
    assert spec(at)["layout"]["sliders"][0]["active"] == 1
    assert any("Step 2 of 4" in m.value for m in at.markdown)
    for _ in range(2):  # on to the last step, where Step ▶ stops
        at.button(key="present_next").click().run()
    assert caption(spec(at)).startswith("out[1, 1] = max(9, 2, 4, 6)")
    assert at.button(key="present_next").disabled
    at.button(key="present_prev").click().run()
    assert caption(spec(at)).startswith("out[1, 0]")


def test_play_toggles_pause_and_exit_leaves():
    at = open_playground(present="1")
    assert at.button(key="present_play").label == "▶ Play"
    at.button(key="present_play").click().run()
    assert not at.exception
    assert at.button(key="present_play").label == "❚❚ Pause"
    at.button(key="present_play").click().run()
    assert at.button(key="present_play").label == "▶ Play"
    at.button(key="present_exit").click().run()
    assert at.toggle(key="present").value is False and "present" not in at.query_params
    assert not styles(at)


def test_toggle_writes_the_flag_into_the_link():
    at = open_playground()
    at.toggle(key="present").set_value(True).run()
    assert at.query_params["present"] in ("1", ["1"])
    assert at.button(key="present_next")


def test_other_pages_run_in_presenter_mode():
    at = open_playground(present="1")
    for page in ("pages/backprop.py", "pages/dims.py", "pages/home.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert at.toggle(key="present").value is True


def test_key_targets_only_the_elements_on_the_page():
    keys = presenter.targets("playground")
    assert keys == {"ArrowLeft": ["present_prev"], "ArrowRight": ["present_next"],
                    " ": ["present_play"], "n": ["quiz_new_playground"]}
    lesson = presenter.targets("lesson", step=4)
    assert lesson["ArrowRight"] == ["lesson_next_top"] and lesson["n"] == ["quiz_new_lesson4"]
    assert "n" not in presenter.targets("image_lab")
    assert presenter.targets("playground", on=False) == {}


def test_the_key_script_is_bound_only_in_presenter_mode():
    at = open_playground()
    assert not at.get("iframe")
    at.toggle(key="present").set_value(True).run()
    (frame,) = at.get("iframe")
    assert '"ArrowRight": ["present_next"]' in frame.proto.srcdoc
    at.toggle(key="present").set_value(False).run()
    (frame,) = at.get("iframe")  # once: the keys click nothing any more
    assert "app.__poolscopeTargets = {};" in frame.proto.srcdoc


def test_figure_is_a_larger_copy_and_the_cached_one_is_untouched(monkeypatch):
    fig, _ = figures.animation_figure(np.arange(16).reshape(4, 4), dict(
        kernel_size=2, stride=2, padding=0, mode="max"))
    before = fig.to_dict()["layout"]
    monkeypatch.setattr(presenter, "on", lambda: True)
    big = presenter.figure(fig)
    assert big.layout.font.size == presenter.FONT_SIZE
    assert big.layout.height == round(fig.layout.height * presenter.SCALE)
    assert len(big.frames) == len(fig.frames)
    # Play, Pause and the step slider as far under the plot again as the fonts are larger
    layout, scale = big.to_dict()["layout"], presenter.SCALE
    for part in ("updatemenus", "sliders"):
        assert layout[part][0]["pad"]["t"] == round(before[part][0]["pad"]["t"] * scale)
    assert layout["margin"]["b"] == round(before["margin"]["b"] * scale)
    assert fig.to_dict()["layout"] == before


def test_backprop_and_dims_figures_are_large_in_presenter_mode():
    at = open_playground(present="1")
    for page, key in (("pages/backprop.py", "bp_backward_fig"), ("pages/dims.py", "d1_fig_chart")):
        at.switch_page(page).run()
        assert not at.exception
        chart = [c for c in at.get("plotly_chart") if c.proto.id and key in c.proto.id]
        spec = json.loads((chart or at.get("plotly_chart"))[0].proto.spec)
        assert spec["layout"]["font"]["size"] == presenter.FONT_SIZE, page
