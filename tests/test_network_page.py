"""The "Pooling inside a network" page: its shared trainer (ui/training.py), its figures
(ui/figures/network.py), and the page itself through app.py (AppTest, very short runs)."""
import json
import re
import threading

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import helpers
from conftest import ROOT
from pooling_core import network as nw
from pooling_core import pool2d
from test_learning_pages import plotly_array
from ui import figures, training

APP = str(ROOT / "app.py")


# ----------------------------------------------------------------------------- the trainer


class FakeTrain:
    """A stand-in for nw.train: reports two batches, then waits for ``release`` (so a test
    can hold a run in 'running'), and returns a real TrainResult of an untrained network."""

    def __init__(self, fail_on=None):
        self.calls, self.release, self.fail_on = [], threading.Event(), fail_on

    def __call__(self, arch, seed, epochs, callback=None):
        self.calls.append((arch.downsample, seed, epochs))
        if seed == self.fail_on:
            raise RuntimeError("out of memory")
        for step in (1, 2):
            callback(nw.Progress(step, 4, 0, [2.3] * step, []))
        assert self.release.wait(10)
        return nw.TrainResult(arch, seed, epochs, nw.Network(arch, seed), [2.3, 2.2],
                              [dict(epoch=1, loss=2.2, train_accuracy=0.1, test_accuracy=0.1)],
                              0.1, 0.1, 0.5)


def test_one_key_trains_once_however_many_sessions_ask_at_once():
    fake = FakeTrain()
    trainer = training.Trainer(train=fake)
    key = training.make_key("max", 1, 2)
    runs = []
    threads = [threading.Thread(target=lambda: runs.append(trainer.run(key))) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(r) for r in runs}) == 1 and trainer.started == 1 and trainer.hits == 29
    run = runs[0]
    fake.release.set()
    assert run.wait(10) and run.state == "done" and run.fraction == 1.0
    assert fake.calls == [("max", 1, 2)]
    assert trainer.run(key) is run and trainer.started == 1  # later presses: the cached run


def test_runs_queue_one_at_a_time_and_report_progress():
    fake = FakeTrain()
    trainer = training.Trainer(train=fake)
    first = trainer.run(training.make_key("max", 0, 1))
    second = trainer.run(training.make_key("avg", 0, 1))
    for _ in range(200):
        if first.progress is not None and first.progress.step == 2:
            break
        threading.Event().wait(0.01)
    assert first.state == "running" and first.fraction == 0.5
    assert second.state == "queued" and trainer.ahead_of(second) == 1 and second.fraction == 0
    fake.release.set()
    assert second.wait(10) and first.done and [c[0] for c in fake.calls] == ["max", "avg"]


def test_a_failed_run_says_why_and_the_next_press_retries():
    fake = FakeTrain(fail_on=3)
    fake.release.set()
    trainer = training.Trainer(train=fake)
    key = training.make_key("lp", 3, 1)
    run = trainer.run(key)
    assert run.wait(10) and run.state == "failed" and run.error == "RuntimeError: out of memory"
    fake.fail_on = None
    again = trainer.run(key)
    assert again is not run and again.wait(10) and again.state == "done"
    assert trainer.started == 2


def test_old_finished_runs_are_dropped_never_running_ones():
    fake = FakeTrain()
    fake.release.set()
    trainer = training.Trainer(keep=2, train=fake)
    keys = [training.make_key("max", s, 1) for s in range(4)]
    for k in keys:
        assert trainer.run(k).wait(10)
    assert trainer.get(keys[0]) is None and trainer.get(keys[1]) is None
    assert trainer.get(keys[3]).state == "done"


@pytest.mark.parametrize("args,match", [(("maxx", 0, 1), "downsample='maxx'"),
                                        (("max", -1, 1), "seed=-1"),
                                        (("max", 0, 0), "epochs=0"),
                                        (("max", 0, 51), "epochs=51"),
                                        (("max", 1.5, 1), "seed=1.5")])
def test_make_key_rejects_bad_settings(args, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        training.make_key(*args)


def test_rows_and_spread():
    result = nw.TrainResult(nw.Architecture("avg"), 4, 2, None, [], [], 0.9561, 0.8712, 1.234)
    row = training.result_row(result)
    assert row == {"Downsampling": "Average pool 2×2", "choice": "avg", "Seed": 4, "Epochs": 2,
                   "Test accuracy": 95.6, "Shift-robust accuracy": 87.1, "Parameters": 3818,
                   "Multiply-adds": 94720, "Training time (s)": 1.23}
    rows = [row, dict(row, Seed=5, **{"Test accuracy": 93.0}), dict(row, Epochs=3)]
    (spread,) = training.spread_rows(rows)  # the 3-epoch run has one seed: no spread row
    assert spread["Seeds"] == "4, 5"
    assert spread["Test accuracy: mean (min-max)"] == "94.3 (93.0-95.6)"


# ----------------------------------------------------------------------------- figures


def test_training_figure_draws_every_batch_and_epoch():
    history = [dict(epoch=e, train_accuracy=0.5 + e / 10, test_accuracy=0.6 + e / 10)
               for e in (1, 2)]
    fig = figures.training_figure([2.0, 1.5, 1.0, 0.8, 0.7, 0.6], history, 3, 4)
    loss, train, test = fig.data
    np.testing.assert_allclose(loss.x, np.arange(1, 7) / 3)
    assert list(test.y) == pytest.approx([70, 80]) and list(train.x) == [1, 2]
    assert tuple(fig.layout.xaxis.range) == (0, 4.05)  # room for the epochs still to come


def test_feature_maps_share_one_colour_range():
    maps = np.random.default_rng(0).random((10, 4, 4))
    maps[3] *= 5
    fig = figures.feature_maps_figure(maps, columns=8)
    assert len(fig.data) == 10
    assert {(t.zmin, t.zmax) for t in fig.data} == {(maps.min(), maps.max())}
    np.testing.assert_array_equal(np.asarray(fig.data[3].z), maps[3])
    with pytest.raises(ValueError, match=r"maps has shape \(4, 4\)"):
        figures.feature_maps_figure(maps[0])


def test_kept_cells_are_the_windows_max_pooling_kept():
    rng = np.random.default_rng(1)
    maps = np.maximum(rng.normal(size=(3, 6, 6)), 0)
    maps[1, :2, :2] = 0  # a window of zeros keeps nothing
    kept = nw.kept_by_max_pool(maps)
    torch = pytest.importorskip("torch")
    values, idx = torch.nn.functional.max_pool2d(torch.from_numpy(maps), 2, return_indices=True)
    want = np.zeros((3, 36), bool)
    for c in range(3):
        want[c, idx[c].flatten().numpy()] = values[c].flatten().numpy() > 0
    np.testing.assert_array_equal(kept, want.reshape(3, 6, 6))
    assert not kept[1, :2, :2].any()
    fig = figures.kept_cells_figure(rng.random((6, 6)), kept, 2)
    marks = fig.data[1]
    assert sorted(zip(marks.y, marks.x)) == sorted(zip(*np.nonzero(kept[2])))
    np.testing.assert_array_equal(np.asarray(fig.data[2].z), kept.sum(0))


def test_probabilities_figure_names_prediction_and_label():
    fig = figures.probabilities_figure(np.array([0.1, 0.7, 0.2]), 2)
    assert fig.layout.title.text == "Prediction 1 (wrong; the label is 2)"
    assert fig.data[0].marker.color[1] != fig.data[0].marker.color[0]


# ----------------------------------------------------------------------------- the page


def open_page():
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/network.py")
    at.run()
    assert not at.exception, at.exception
    assert at.slider(key="kh"), "the shared sidebar is missing"
    return at


def charts(at) -> dict:
    return {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def server_counts(at) -> tuple[int, int]:
    text = next(c.value for c in at.caption if c.value.startswith("This server has trained"))
    started, hits = re.findall(r"\d+", text)[:2]
    return int(started), int(hits)


def table(at):
    return next(df.value for df in at.dataframe if "Test accuracy" in df.value.columns)


def train_short(at, choice="max", seed=0, epochs=1):
    at.selectbox(key="nn_choice").set_value(choice)
    at.number_input(key="nn_seed").set_value(seed)
    at.slider(key="nn_epochs").set_value(epochs)
    at.button(key="nn_train").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def test_train_fills_the_table_and_shows_the_network_inside():
    at = open_page()
    assert at.title[0].value == "Pooling inside a network"
    assert any("2×2 windows and stride 2" in c.value for c in at.caption)
    train_short(at, "max", seed=0, epochs=1)
    df = table(at)
    assert len(df) == 1 and df["Downsampling"][0] == "Max pool 2×2" and df["Epochs"][0] == 1
    assert 50 <= df["Test accuracy"][0] <= 100 and df["Parameters"][0] == 3818
    assert df["Multiply-adds"][0] == 94720 and df["Training time (s)"][0] > 0
    assert any("Differences of a percent or two are noise" in i.value for i in at.info)
    specs = list(charts(at).values())
    titles = [s["layout"].get("title", {}).get("text", "") for s in specs]
    assert "Max pool 2×2, seed 0, 1 epochs" in titles  # the run's curves
    assert any(t.startswith("Prediction ") for t in titles)
    assert any(t.startswith("Conv 1 + ReLU: 8 channels of 16×16") for t in titles)
    captions = [t["text"][0] for s in specs for t in s["data"] if t.get("name") == "caption"]
    assert any(c.startswith("out[") and "max(" in c for c in captions)  # the window animation
    kept = [s for s in specs if any(a.get("text", "").startswith("Input: the cells channel 0")
                                    for a in s["layout"].get("annotations", []))]
    assert len(kept) == 1


def test_the_same_settings_train_once_for_two_sessions():
    first = train_short(open_page(), "avg", seed=21, epochs=1)
    started, hits = server_counts(first)
    second = train_short(open_page(), "avg", seed=21, epochs=1)
    assert server_counts(second) == (started, hits + 1)
    a, b = table(first), table(second)
    assert a.iloc[0].to_dict() == b.iloc[0].to_dict()  # the very same run


def test_more_seeds_show_the_spread_and_choices_without_pooling_say_so():
    at = open_page()
    at.selectbox(key="nn_choice").set_value("stride2")
    at.slider(key="nn_epochs").set_value(1)
    at.number_input(key="nn_more").set_value(2)
    at.button(key="nn_again").click().run()
    assert not at.exception and not at.error
    df = table(at)
    assert list(df["Seed"]) == [1, 2] and set(df["Downsampling"]) == {nw.DOWNSAMPLING["stride2"]}
    spread = next(d.value for d in at.dataframe if "Seeds" in d.value.columns)
    assert spread["Seeds"][0] == "1, 2"
    assert any("no pooling layer" in i.value for i in at.info)


def anim_caption(spec) -> str:
    """The step caption of a sliding-window figure (its "caption" text trace), or ""."""
    return next((t["text"][0] for t in spec["data"] if t.get("name") == "caption"), "")


def test_a_shifted_digit_is_what_the_network_sees():
    at = train_short(open_page(), "lp", seed=0, epochs=1)
    before = next(s for s in charts(at).values()
                  if s["layout"].get("title", {}).get("text") == "Input (16×16)")
    at.radio(key="nn_shift").set_value("right").run()
    assert not at.exception
    after = next(s for s in charts(at).values()
                 if s["layout"].get("title", {}).get("text") == "Input (16×16)")
    z0, z1 = (plotly_array(s["data"][0]["z"]) for s in (before, after))
    np.testing.assert_array_equal(z1[:, 1:], z0[:, :-1])
    assert (z1[:, 0] == 0).all()
    # the window animation uses the network's own Lp pooling
    anim = next(c for c in map(anim_caption, charts(at).values()) if c.startswith("out["))
    assert "(Σ xᵖ)^(1/p), p=2" in anim


def test_the_animation_opens_on_the_strongest_window():
    at = train_short(open_page(), "max", seed=0, epochs=1)
    anim = next(c for c in map(anim_caption, charts(at).values()) if c.startswith("out["))
    i, j = map(int, re.match(r"out\[(\d+), (\d+)\]", anim).groups())
    run_key = training.Key("max", 0, 1)
    d = nw.digits()
    # the first test digit's conv 1 + ReLU map, channel 0, pooled as the network does
    net = training_run_network(run_key)
    fmap = dict(net.feature_maps(d.x_test[:1]))["relu1"][0, 0].astype(float)
    out = pool2d(fmap, **nw.pool_kwargs("max"))
    assert out[i, j] == out.max()


def training_run_network(key):
    """The network the page trained for ``key``: trained again here (runs are reproducible)."""
    return nw.train(nw.Architecture(key.downsample), key.seed, key.epochs).network


def test_the_view_follows_the_latest_run_and_keeps_its_curves():
    at = train_short(open_page(), "max", seed=0, epochs=1)
    train_short(at, "avg", seed=0, epochs=1)
    assert at.selectbox(key="nn_net").value == ("avg", 0, 1)
    at.number_input(key="nn_digit").set_value(5).run()  # a rerun without training
    assert not at.exception
    titles = [s["layout"].get("title", {}).get("text", "") for s in charts(at).values()]
    assert "Average pool 2×2, seed 0, 1 epochs" in titles
    at.selectbox(key="nn_net").set_value(("max", 0, 1)).run()
    assert not at.exception
    anim = next(s for s in charts(at).values() if anim_caption(s).startswith("out["))
    assert "max(" in anim_caption(anim)
    assert [a["text"] for a in anim["layout"]["annotations"]] == [
        "Conv 1 + ReLU, channel 0", "Max pool 2×2 output"]


def open_link(**query):
    """The page as a copied link (``?nn_epochs=1&nn_digit=5``) opens it in a new session."""
    return helpers.open_link("network", query, timeout=120)


def input_chart(at):
    spec = next(s for s in charts(at).values()
                if s["layout"].get("title", {}).get("text") == "Input (16×16)")
    return plotly_array(spec["data"][0]["z"])


def test_a_link_reopens_the_run_and_the_view_inside_it():
    train_short(open_page(), "avg", seed=4, epochs=1)  # someone trained it on this server
    at = open_link(nn_choice="Average pool 2×2", nn_seed="4", nn_epochs="1", nn_digit="5",
                   nn_shift="left", nn_channel="3")
    df = table(at)  # the run joins the new session's table at once, trained no more
    assert list(df["Downsampling"]) == ["Average pool 2×2"] and list(df["Seed"]) == [4]
    assert at.selectbox(key="nn_net").value == ("avg", 4, 1)
    x = nw.shift_images(nw.digits().x_test[5:6], 0, -1)  # one pixel left
    np.testing.assert_array_equal(input_chart(at), np.asarray(x[0, 0], dtype=float))
    anim = next(s for s in charts(at).values() if anim_caption(s).startswith("out["))
    assert anim["layout"]["annotations"][0]["text"] == "Conv 1 + ReLU, channel 3"
    at.number_input(key="nn_digit").set_value(6).run()  # later runs keep the table
    assert len(table(at)) == 1 and not at.exception


def test_a_link_to_a_run_this_server_lacks_says_press_train():
    at = open_link(nn_choice="Lp", nn_seed="77", nn_epochs="1", nn_digit="2")
    assert at.session_state["nn_choice"] == "lp" and at.session_state["nn_seed"] == 77
    assert any("has not trained yet" in i.value and "seed 77" in i.value for i in at.info)
    at.number_input(key="nn_seed").set_value(78).run()  # the note names the link's run
    assert any("has not trained yet" in i.value and "seed 77" in i.value for i in at.info)
    at.number_input(key="nn_seed").set_value(77).run()
    at.button(key="nn_train").click().run()
    assert not at.exception and list(table(at)["Seed"]) == [77]
    assert at.number_input(key="nn_digit").value == 2  # the link's view inside it
    assert not any("has not trained yet" in i.value for i in at.info)
    # a plain visit (no network setting in its link) says nothing of the kind
    assert not any("has not trained yet" in i.value for i in open_page().info)
