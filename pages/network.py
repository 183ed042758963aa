"""Pooling inside a network: train a tiny CNN on handwritten digits with each downsampling."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import streamlit as st

from pooling_core import network as nw
from pooling_core import fractional_max_pool2d, pool2d
from ui import figures, startup, training
from ui.figures import variants as vfig

POLL = 0.3  # seconds between two looks at a run in progress
MAX_WAIT = 600  # a script run watches a run this long at most (the run goes on anyway)
MAX_PAGE_EPOCHS = 20
MAX_MORE_SEEDS = 5
BATCH = 32  # nw.train's default batch size, which the page uses
BIND = dict(bind="query-params")  # the controls are in the link (ui/links.py)
SHIFTS = {"none": (0, 0), "up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
SHOWN = {"relu1": "Conv 1 + ReLU", "pool1": "After the first pooling",
         "down1_relu": "After the strided conv + ReLU", "relu2": "Conv 2 + ReLU",
         "pool2": "After the second pooling", "down2_relu": "After the second strided conv + ReLU"}


def noise_note(test_digits: int) -> str:
    return (f"**Differences of a percent or two are noise here.** The test set has "
            f"{test_digits} digits, so one digit is {100 / test_digits:.2f} points, and the "
            f"same choice trained with another seed (other initial weights, another batch "
            f"order) moves by about that much. Train a few seeds of each choice (**Train more "
            f"seeds**) and compare the spreads before you believe a ranking.")


@st.cache_resource(show_spinner=False)
def shared_trainer() -> training.Trainer:
    """One per server process: every session's runs, each (choice, seed, epochs) trained once."""
    return training.Trainer()


@st.cache_data(max_entries=64, show_spinner=False)
def build_animation(fmap: np.ndarray, kwargs: dict, channel: int):
    """The sliding-window figure of the pooling layer over one feature map (every window)."""
    return figures.sliding_figure(fmap, kwargs, figures.animation_steps(fmap, kwargs),
                                  left_title=f"Conv 1 + ReLU, channel {channel}",
                                  right_title=f"{nw.DOWNSAMPLING[kwargs['mode']]} output")


def controls() -> tuple[training.Key, int]:
    ss = st.session_state
    ss.setdefault("nn_rows", [])
    ss.setdefault("nn_pending", [])
    c1, c2, c3, c4 = st.columns([3, 1, 2, 1])
    choice = c1.selectbox(
        "Downsampling layer", list(nw.DOWNSAMPLING), format_func=nw.DOWNSAMPLING.get,
        key="nn_choice", **BIND,
        help="Used in both blocks. Pooling layers run Poolscope's own pool2d forward and "
             "pool2d_backward backward; the strided choices are convolutions.")
    seed = c2.number_input("Seed", 0, 99_999, 0, key="nn_seed", **BIND,
                           help="Draws the initial weights, the order of the batches and "
                                "stochastic pooling's samples: the same seed gives the same run.")
    n = len(nw.digits().y_train)
    epochs = c3.slider("Epochs", 1, MAX_PAGE_EPOCHS, nw.EPOCHS, key="nn_epochs", **BIND,
                       help=f"Passes over the {n:,} training digits ({-(-n // BATCH)} batches "
                            f"of {BATCH} each).")
    more = c4.number_input("More seeds", 1, MAX_MORE_SEEDS, 3, key="nn_more", **BIND,
                           help="How many seeds after this one 'Train more seeds' trains.")
    return training.make_key(choice, int(seed), int(epochs)), int(more)


def architecture_table(arch: nw.Architecture) -> None:
    with st.expander(f"The network: {arch.params:,} parameters, {arch.macs:,} multiply-adds "
                     f"per digit", expanded=False):
        rows = [{"Layer": r.name, "What": r.description,
                 "Output (channels×H×W)": "×".join(map(str, r.output_shape)),
                 "Parameters": r.params, "Multiply-adds": r.macs} for r in arch.summary()]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.caption("Multiply-adds count the convolutions and the dense layer. A pooling "
                   "layer learns nothing (0 parameters) and its comparisons or additions, 4 per "
                   "output, are not multiply-adds. Input: the 8×8 digit upsampled to 16×16.")


def status_text(trainer: training.Trainer, run: training.Run) -> str:
    if run.state == "queued":
        return f"Waiting for the trainer: {trainer.ahead_of(run)} run(s) ahead of {run.key.text}"
    p, epochs = run.progress, run.key.epochs
    return f"Training {run.key.text}: " + (f"epoch {min(p.epoch + 1, epochs)} of {epochs}"
                                           if p else "starting")


def curves(run: training.Run):
    """The run's loss and accuracy so far (None before its first batch, or if it failed)."""
    p = run.result if run.result is not None else run.progress
    if p is None:
        return None
    steps = -(-len(nw.digits().y_train) // BATCH)
    return figures.training_figure(p.losses, p.history, steps, run.key.epochs,
                                   title=run.key.text)


def add_run(run: training.Run) -> None:
    """A finished run joins this session's table, and the view looks inside it."""
    ss = st.session_state
    if not any(row["key"] == list(run.key) for row in ss["nn_rows"]):
        ss["nn_rows"].append({**training.result_row(run.result), "key": list(run.key)})
    ss["nn_show"] = list(run.key)
    ss["nn_net"] = tuple(run.key)  # look inside the run just trained


def open_linked_run(trainer: training.Trainer, key: training.Key) -> None:
    """A link's first look: the network its settings trained, when this server has it.

    A copied link holds the controls (the run's choice, seed and epochs) and the view
    inside that run (digit, shift, channel), not the session's table. The run joins the
    table when the server still keeps it (each run trains once for everyone); else a note
    says that Train shows it (runs are reproducible: the same settings, the same network)."""
    ss = st.session_state
    if "nn_linked" not in ss:  # the link's run, until it is in the table
        linked = any(k.startswith("nn_") for k in st.query_params)
        run = trainer.get(key) if linked else None
        adopted = run is not None and run.state == "done"
        if adopted:
            add_run(run)
        ss["nn_linked"] = list(key) if linked and not adopted else None
    if ss["nn_linked"] and not ss["nn_rows"] and not ss["nn_pending"]:
        st.info(f"This link looks inside {training.Key._make(ss['nn_linked']).text}, which "
                f"this server has not trained yet (or no longer keeps): press **Train** to "
                f"see it.")


def watch(trainer: training.Trainer) -> None:
    """Show the progress of this session's pending runs until they finish, then add them to
    the table. A rerun meanwhile (any widget) stops watching, not the runs."""
    ss = st.session_state
    runs = [trainer.get(k) or trainer.run(k) for k in map(training.Key._make, ss["nn_pending"])]
    if not runs:  # nothing training: the curves of the session's latest run stay in view
        last = trainer.get(training.Key._make(ss["nn_show"])) if ss.get("nn_show") else None
        fig = curves(last) if last is not None else None
        if fig is not None:
            st.plotly_chart(fig, width="stretch", key="nn_curves")
        return
    bar, chart = st.progress(0.0), st.empty()
    shown, draws, deadline = None, 0, time.monotonic() + MAX_WAIT
    while True:
        active = next((r for r in runs if not r.done), None)
        run = active or runs[-1]
        bar.progress(sum(r.fraction for r in runs) / len(runs),
                     text=status_text(trainer, run) if active else "Done")
        step = (run.key, run.progress.step if run.progress else -1, run.done)
        fig = curves(run) if step != shown else None
        if fig is not None:
            draws += 1  # each drawing its own key: two can look alike (the last batch, done)
            chart.plotly_chart(fig, width="stretch", key=f"nn_live_{draws}")
            shown = step
        if active is None or time.monotonic() > deadline:
            break
        active.wait(POLL)
    for r in runs:
        if r.done:
            ss["nn_pending"].remove(list(r.key))
            if r.state == "failed":
                st.error(f"Training {r.key.text} failed: {r.error}")
            else:
                add_run(r)
    if ss["nn_pending"]:
        st.info("Still training; the run goes on on the server. Press Train again to watch it.")


def comparison_table(trainer: training.Trainer) -> None:
    ss = st.session_state
    st.subheader("Your comparison")
    rows = ss["nn_rows"]
    if not rows:
        st.caption("Train a choice to start the table; then train the others and compare.")
        return
    df = pd.DataFrame(rows).drop(columns=["choice", "key"])
    pct = st.column_config.NumberColumn(format="%.1f %%")
    st.dataframe(df, hide_index=True, width="stretch", column_config={
        "Test accuracy": pct, "Shift-robust accuracy": st.column_config.NumberColumn(
            format="%.1f %%", help="Accuracy on the test digits shifted by one pixel (up, down, "
                                   "left, right), averaged over the four shifts."),
        "Training time (s)": st.column_config.NumberColumn(
            help="Wall-clock time of the one training of these settings on this server "
                 "(shared by everyone who asked for them)."),
        "Multiply-adds": st.column_config.NumberColumn(help="Per digit, forward pass.")})
    spread = training.spread_rows(rows)
    if spread:
        st.markdown("**Spread over seeds** (mean, and the lowest and highest run):")
        st.dataframe(pd.DataFrame(spread), hide_index=True, width="stretch")
    st.info(noise_note(len(nw.digits().y_test)))
    c1, c2 = st.columns([1, 3])
    c1.button("Clear the table", key="nn_clear", on_click=lambda: ss.update(nn_rows=[]))
    c2.caption(f"This server has trained {trainer.started} run(s) and answered {trainer.hits} "
               f"more Train presses with a run it already had: the same settings train once "
               f"for everyone.")


def explore(trainer: training.Trainer) -> None:
    ss = st.session_state
    st.subheader("Inside a trained network")
    keys = [tuple(r["key"]) for r in ss["nn_rows"]]
    if not keys:
        st.caption("Train a network to see its feature maps here.")
        return
    if ss.get("nn_net") not in keys:
        ss["nn_net"] = keys[-1]
    key = training.Key._make(st.selectbox("Network", keys, key="nn_net",
                                          format_func=lambda k: training.Key._make(k).text,
                                          help="Any run of your table."))
    run = trainer.get(key)
    if run is None or run.state != "done":
        st.info("This server no longer keeps that run (it keeps the latest "
                f"{training.KEEP}); train it again to look inside.")
        return
    net, d = run.result.network, nw.digits()
    c1, c2 = st.columns(2)
    idx = c1.number_input("Test digit", 0, len(d.y_test) - 1, 0, key="nn_digit", **BIND,
                          help=f"One of the {len(d.y_test)} test digits (not used in training).")
    shift = c2.radio("Shift it by one pixel", list(SHIFTS), horizontal=True, key="nn_shift", **BIND,
                     help="The shift-robustness column averages the accuracy over these four "
                          "shifts of every test digit.")
    x = nw.shift_images(d.x_test[int(idx): int(idx) + 1], *SHIFTS[shift])
    maps = dict(net.feature_maps(x))
    c1, c2 = st.columns([1, 2])
    c1.plotly_chart(figures.feature_maps_figure(maps["input"][0], "Input (16×16)",
                                                colorscale="Blues"), width="stretch",
                    key="nn_input")
    c2.plotly_chart(figures.probabilities_figure(net.predict_proba(x)[0], d.y_test[int(idx)]),
                    width="stretch", key="nn_probs")
    tabs = st.tabs([SHOWN[name] for name in maps if name in SHOWN])
    for tab, name in zip(tabs, [n for n in maps if n in SHOWN]):
        a = maps[name][0]
        tab.plotly_chart(figures.feature_maps_figure(a, f"{SHOWN[name]}: {a.shape[0]} channels "
                                                        f"of {a.shape[1]}×{a.shape[2]}"),
                         width="stretch", key=f"nn_maps_{name}")
    pooling_window(key.downsample, maps)


def pooling_window(choice: str, maps: dict) -> None:
    st.markdown("**The first pooling layer at work**")
    if choice not in nw.POOLING:
        st.info(f"{nw.DOWNSAMPLING[choice]}: this network has no pooling layer, so there is no "
                f"pooling window to watch. Train a pooling choice to see its windows here.")
        return
    fmaps = maps["relu1"][0]
    channel = st.slider("Channel of conv 1 + ReLU", 0, len(fmaps) - 1, 0, key="nn_channel",
                        **BIND)
    if choice == "fractional":
        fractional_window(np.asarray(fmaps[channel], dtype=float), channel)
        return
    kwargs = nw.pool_kwargs(choice)
    fmap = np.asarray(fmaps[channel], dtype=float)
    fig = build_animation(fmap, kwargs, channel)
    # open on the window with the strongest output (frames are the output cells, row-major)
    strongest = int(np.argmax(pool2d(fmap, **kwargs)))
    st.plotly_chart(figures.open_at(fig, strongest), width="stretch", key="nn_anim")
    if choice == "stochastic":
        st.caption("At test time stochastic pooling takes the probability-weighted average "
                   "Σw·x / Σw (w = max(x, 0)); while training it picked one cell per window.")
    if choice == "max":
        st.plotly_chart(figures.kept_cells_figure(maps["input"][0, 0],
                                                  nw.kept_by_max_pool(fmaps), channel),
                        width="stretch", key="nn_kept")
        st.caption("Conv 1 keeps the size (3×3, padding 1), so each feature-map cell is centred "
                   "on the input pixel under it. A window of four zeros keeps nothing and is "
                   "not marked.")


def fractional_window(fmap: np.ndarray, channel: int) -> None:
    """The fractional layer's test-time windows on one feature map, and its output."""
    windows = nw.fractional_test_windows(fmap.shape)
    out = fractional_max_pool2d(fmap[None], 2, output_ratio=nw.FRACTIONAL_RATIO,
                                samples=windows.samples)[0]
    st.plotly_chart(vfig.fractional_figure(fmap, windows, out), width="stretch",
                    key="nn_fractional")
    steps = np.diff(windows.rows[0]).tolist()
    st.caption(f"Conv 1 + ReLU, channel {channel}: {fmap.shape[0]}×{fmap.shape[1]} → "
               f"{out.shape[0]}×{out.shape[1]} (int(16 / √2) = 11). The 2×2 windows start "
               f"{steps} cells apart, a pseudo-random mix of 1 and 2 (the same on both axes "
               f"here: at test time every plane uses u = 0.5; while training each image and "
               f"channel draws its own windows every batch). The Pooling zoo shows them for "
               f"any seed.")


def ask(more_seeds: bool) -> None:
    """Start (or join) the runs a button asks for and watch them in this session.

    A callback, and it reads the settings from the session when the button is
    pressed: a control changed in the same interaction as the press counts."""
    ss = st.session_state
    key = training.make_key(ss["nn_choice"], int(ss["nn_seed"]), int(ss["nn_epochs"]))
    keys = [key._replace(seed=key.seed + i) for i in range(1, int(ss["nn_more"]) + 1)] \
        if more_seeds else [key]
    pending = ss.setdefault("nn_pending", [])
    for k in keys:
        shared_trainer().run(k)
        if list(k) not in pending:
            pending.append(list(k))


def main() -> None:
    startup.require_navigation()
    st.title("Pooling inside a network")
    st.caption("A tiny CNN trained here, in NumPy, on 1,797 handwritten digits (UCI, CC BY 4.0). "
               "Pick how it downsamples, train it, and fill the table: does a strided "
               "convolution replace max pooling, as Springenberg et al. (2015) claim? The "
               "sidebar's pooling settings are not used on this page: every downsampling layer "
               "here has 2×2 windows and stride 2.")
    trainer = shared_trainer()
    key, more = controls()
    architecture_table(nw.Architecture(key.downsample))
    b1, b2 = st.columns([1, 4])
    # callbacks, not the buttons' return values: they run before the script, so a press
    # survives the rerun that startup.require_navigation may ask for
    b1.button("Train", type="primary", key="nn_train", on_click=ask, args=(False,),
              help="Trains once per server: settings someone already trained come back at once.")
    b2.button(f"Train more seeds ({key.seed + 1}-{key.seed + more})", key="nn_again",
              on_click=ask, args=(True,),
              help="The same choice and epochs with the next seeds, to see the spread.")
    open_linked_run(trainer, key)
    watch(trainer)
    comparison_table(trainer)
    explore(trainer)


if __name__ == "__main__":
    main()
