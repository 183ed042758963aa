"""A copied link reopens the same view (issue 22): every control of every page goes into the
link and comes back from it, and the sidebar's "Copy link" box shows that link."""
import pytest

from test_query_params import open_page
from ui.links import LINK_PARAMS

#: links that set every page's controls away from their defaults (a control that appears
#: only with another value gets a second link)
LINKS = {
    "playground": [
        {"kh": "3", "sk": "false", "sh": "1", "mode": "Average", "ceil": "true", "src": "Random",
         "rows": "7", "cols": "5", "rseed": "4", "anim_speed": "2×", "pg_tab": "Code"},
        {"kh": "3", "sk": "false", "sh": "2", "ph": "1", "mode": "Average", "cip": "False",
         "fw": "PyTorch", "diff_fw": "MATLAB", "src": "Preset", "in_preset": "Ramp"},
        {"sq": "false", "kh": "2", "kw": "3", "sk": "false", "sh": "1", "sw": "2", "mode": "Lp norm",
         "p": "3.5", "src": "Edit the grid", "rows": "3", "cols": "3",
         "m": "1,2,3;4,5,6;7,8,9"},
    ],
    "image_lab": [
        {"img_sample": "Scene (generated)", "img_times": "2", "img_zoom": "true",
         "img_compare": "true", "zoom_size": "12", "zoom_channel": "Green", "zoom_top": "4",
         "zoom_left": "6", "cmp_a": "Min", "cmp_b": "Median"},
        {"img_src": "My upload", "img_sample": "Text", "img_gray": "true", "img_roi": "true",
         "img_variants": "true",
         "mode": "Stochastic (Caffe)", "seed": "5", "train": "false", "sq": "false", "kh": "3",
         "kw": "2", "dh": "2", "dw": "1", "ph": "1", "pw": "0"},
    ],
    "backprop": [
        {"bp_rows": "5", "bp_cols": "7", "bp_seed": "3", "bp_grad": "One hot cell",
         "bp_hot_r": "1", "bp_hot_c": "2", "bp_check_on": "x itself"},
        {"bp_grad": "Random", "bp_gseed": "7", "mode": "Average", "glob": "true"},
    ],
    "pool_vs_conv": [
        {"pc_rows": "8", "pc_cols": "9", "pc_seed": "2", "pc_kernel": "Type it in",
         "pc_text": "1, 0; 0, -1", "pc_H": "56", "pc_W": "28", "pc_C": "32",
         "pc_diff": "max pool − avg pool"},
        {"pc_kernel": "Random", "pc_kseed": "5", "pad": "VALID", "dh": "2"},
    ],
    "dims": [
        {"dims_tab": "3-D volume", "d1_kind": "Paste numbers", "d1_text": "1, 2, 9, 4, 0",
         "d3_d": "6", "d3_h": "5", "d3_w": "4", "d3_seed": "3", "d3_vk": "1", "d3_vi": "1",
         "d3_vj": "0", "ad_h": "9", "ad_w": "5", "ad_oh": "2", "ad_ow": "4", "ad_seed": "2"},
        {"dims_tab": "Adaptive & global", "d1_kind": "Steps", "d1_len": "30", "d1_seed": "9",
         "d3_view": "3-D points", "ad_global": "true"},
    ],
    "zoo": [  # one link per tab: only the open tab's controls are drawn
        {"zoo_input": "Stripes (period 4)", "zoo_rows": "10", "zoo_cols": "9", "zoo_seed": "5",
         "zoo_kernel": "3", "zoo_stride": "1", "zoo_filter": "5", "zoo_ratio": "0.5",
         "zoo_frac_seed": "7", "zoo_frac_row": "2", "zoo_frac_column": "1"},
        {"zoo_tab": "GeM vs LPPool", "zoo_p": "5.5", "zoo_gem_row": "1", "zoo_gem_column": "2"},
        {"zoo_tab": "GeM vs LPPool", "zoo_p_inf": "true", "zoo_input": "Type numbers",
         "zoo_text": "1 2 3; 4 5 6; 7 8 9"},
        {"zoo_tab": "Mixed", "zoo_alpha": "0.25", "zoo_mixed_row": "3", "zoo_mixed_column": "1"},
        {"zoo_tab": "SoftPool", "zoo_soft_row": "1", "zoo_soft_column": "3"},
        {"zoo_tab": "Spatial pyramid", "zoo_levels": "1, 3"},
        {"zoo_tab": "BlurPool shift lab", "zoo_shift_input": "Checkerboard",
         "zoo_shift_dir": "diagonal", "zoo_shift": "3", "zoo_shift_filter": "5",
         "zoo_shift_row": "4"},
        {"zoo_tab": "Code", "zoo_code_mode": "Fractional max", "zoo_code_fw": "TensorFlow"},
    ],
    "network": [  # the second link's run is trained first (test_query_params.open_page)
        {"nn_choice": "Average pool 2×2", "nn_seed": "3", "nn_epochs": "2", "nn_more": "4"},
        {"nn_epochs": "1", "nn_digit": "7", "nn_shift": "left", "nn_channel": "2"},
    ],
}
CASES = [(page, i) for page, links in LINKS.items() for i in range(len(links))]


def test_the_links_cover_every_control():
    covered = {key for links in LINKS.values() for link in links for key in link}
    assert covered == set(LINK_PARAMS)  # every key is in some link
    for links in LINKS.values():  # and every value is valid
        for link in links:
            for key, text in link.items():
                LINK_PARAMS[key].parse(text)


@pytest.mark.parametrize("page,i", CASES, ids=[f"{p}-{i}" for p, i in CASES])
def test_a_link_sets_every_control_and_stays_in_the_link(page, i):
    link = LINKS[page][i]
    at = open_page(page, link)
    assert not [w.value for w in at.warning if w.value.startswith("**This link")]
    for key, text in link.items():
        value = LINK_PARAMS[key].parse(text)
        if key in ("dims_tab", "pg_tab"):
            continue  # the tab's state is the browser's (tests/test_browser_links.py)
        if key == "m":
            assert at.data_editor[0].value.to_numpy().tolist() == value.tolist()
            continue
        assert at.session_state[key] == value, key
        spec = LINK_PARAMS[key]  # a default value leaves the link (Streamlit keeps it short)
        default = None if spec.default is None else spec.text(spec.default)
        if not (spec.dynamic and key not in at.query_params):  # its default follows the data
            assert at.query_params.get(key, default) == text, key
    # the sidebar's Copy link box holds this link
    (box,) = [c for c in at.code if c.value.startswith("http://")]
    for key, text in link.items():
        spec = LINK_PARAMS[key]
        assert f"{key}=" in box.value or spec.dynamic or spec.parse(text) == spec.default, key
