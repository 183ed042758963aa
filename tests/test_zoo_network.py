"""Fractional max pooling as the network page's downsampling choice (issue 18): the layer,
its windows, and the page through app.py (AppTest). Its forward and backward passes are
checked against torch autograd in tests/test_network.py, with the other choices."""
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from pooling_core import fractional_max_pool2d, fractional_max_pool2d_backward
from pooling_core import network as nw
from test_roi_view import decoded

ROOT = Path(__file__).resolve().parents[1]


def test_the_fractional_layer_draws_windows_per_batch_and_fixes_them_at_test_time():
    net = nw.Network(nw.Architecture("fractional"), seed=0, dtype=np.float64)
    x = np.random.default_rng(0).random((3, 1, 16, 16))
    test_a, test_b = net.forward(x), net.forward(x)
    np.testing.assert_array_equal(test_a, test_b)  # one fixed set of windows
    a = net.forward(x, training=True, rng=np.random.default_rng(1))
    b = net.forward(x, training=True, rng=np.random.default_rng(2))
    assert not np.allclose(a, b)  # new windows for a new batch seed
    pool = net.layers[2]
    maps = np.random.default_rng(3).random((2, 4, 16, 16))
    out, (cached, seed) = pool.forward(maps, True, np.random.default_rng(4))
    u = nw.fractional_samples(maps.shape, seed)
    np.testing.assert_array_equal(out, fractional_max_pool2d(maps, 2, output_ratio=2 ** -0.5,
                                                             samples=u))
    g = np.random.default_rng(5).random(out.shape)
    np.testing.assert_array_equal(pool.backward(g, (cached, seed)),
                                  fractional_max_pool2d_backward(g, maps, 2,
                                                                 output_ratio=2 ** -0.5,
                                                                 samples=u))
    with pytest.raises(ValueError, match="fractional_test_windows"):
        nw.pool_kwargs("fractional")


def test_the_fractional_layer_steps_one_or_two_cells():
    w = nw.fractional_test_windows((16, 16))
    steps = set(np.diff(w.rows[0]).tolist()) | set(np.diff(w.cols[0]).tolist())
    assert steps == {1, 2} and w.rows.shape[-1] == 11
    arch = nw.Architecture("fractional")
    assert arch.summary()[-1].description == "dense 784 → 10"  # 16 · 7 · 7


def test_the_network_page_trains_fractional_max_pooling_and_shows_its_windows():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/network.py").run()
    at.selectbox(key="nn_choice").set_value("fractional")
    at.slider(key="nn_epochs").set_value(1)
    at.button(key="nn_train").click().run()
    assert not at.exception and not at.error
    rows = next(d.value for d in at.dataframe if "Downsampling" in d.value.columns)
    row = rows.iloc[0]
    assert row["Downsampling"] == nw.DOWNSAMPLING["fractional"]
    assert row["Parameters"] == nw.Architecture("fractional").params
    assert 30 <= row["Test accuracy"] <= 100
    # the first pooling layer's windows on the first test digit's channel 0, from the core
    net = nw.train(nw.Architecture("fractional"), 0, 1).network
    fmap = dict(net.feature_maps(nw.digits().x_test[:1]))["relu1"][0, 0].astype(float)
    w = nw.fractional_test_windows(fmap.shape)
    out = fractional_max_pool2d(fmap[None], 2, output_ratio=nw.FRACTIONAL_RATIO,
                                samples=w.samples)[0]
    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if "region boundaries" in c.proto.spec)
    np.testing.assert_allclose(decoded(spec["data"][1]["z"]), out, rtol=1e-6)
    assert any("16×16 → 11×11" in c.value for c in at.caption)
