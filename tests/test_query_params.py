"""Links are untrusted input: every value a URL may carry, on every page, through AppTest.

A shared link (``?kh=3&mode=Average``) sets the sidebar and the pages' own bound widgets
(Streamlit's ``bind="query-params"``) and the playground's matrix ``m``. Streamlit drops
a bound value it cannot use without a word, and takes a few it should not (``rseed=3.5``
as 3, the last of repeated keys). ``ui.links.check_link`` checks every value first: a
bad one falls back to its default with one warning naming it, the link's other values
still apply, and the value is shown as inline code, never rendered.
"""
import re

import pytest

from conftest import ROOT
from helpers import open_link
from ui import zoo
from ui.links import LINK_NOTICE, LINK_PARAMS, code
from ui.pool_settings import DEFAULTS

PAGES = ("home", "playground", "image_lab", "backprop", "pool_vs_conv", "dims", "zoo", "network")
SIDEBAR = [k for k in LINK_PARAMS if k in DEFAULTS]
PAGE_KEYS = {"playground": ("src", "in_preset", "rows", "cols", "rseed", "m", "anim_speed",
                            "diff_fw", "pg_tab"),
             "backprop": ("bp_rows", "bp_cols", "bp_seed", "bp_grad", "bp_gseed", "bp_hot_r",
                          "bp_hot_c", "bp_check_on"),
             "pool_vs_conv": ("pc_rows", "pc_cols", "pc_seed", "pc_kernel", "pc_kseed",
                              "pc_text", "pc_H", "pc_W", "pc_C", "pc_diff"),
             "image_lab": ("img_src", "img_sample", "img_gray", "img_times", "img_zoom",
                           "img_compare", "img_roi", "img_variants", "zoom_size", "zoom_channel", "zoom_top", "zoom_left",
                           "cmp_a", "cmp_b"),
             "dims": ("dims_tab", "d1_kind", "d1_text", "d1_len", "d1_seed", "d3_d", "d3_h",
                      "d3_w", "d3_seed", "d3_view", "d3_vk", "d3_vi", "d3_vj", "ad_h", "ad_w",
                      "ad_oh", "ad_ow", "ad_global", "ad_seed"),
             "zoo": tuple(k for k in LINK_PARAMS if k.startswith("zoo_")),
             "network": tuple(k for k in LINK_PARAMS if k.startswith("nn_"))}

#: the pages whose tabs are in the link, and their key
TAB_KEYS = {"dims": "dims_tab", "playground": "pg_tab", "zoo": "zoo_tab"}

# hostile values
GARBAGE = "abc"
HUGE = str(10 ** 30)
NEGATIVE = "-5"
FLOAT = "2.5"
EMPTY = ""
UNKNOWN = "Bogus"
REPEATED = ["3", "4"]
LONG = "A" * 100_000
UNICODE = "二十 🙂 ünïcödé"
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS = "javascript:alert(1)"
MD_LINK = "[click me](javascript:alert(1))"
PAYLOADS = [GARBAGE, HUGE, NEGATIVE, FLOAT, EMPTY, UNKNOWN, REPEATED, LONG, UNICODE, SCRIPT,
            IMG, JS, MD_LINK]
MARKUP = (SCRIPT, IMG, JS, MD_LINK)  # what must never reach the page outside inline code
MARKERS = ("<script", "<img", "onerror", "javascript:")


def is_valid(key, payload):
    """The few payloads that are fine values: p = 2.5 (the sidebar's and GeM's), m = a 1×1
    matrix of a number, and a typed list of numbers that is one number."""
    numbers = key == "m" or LINK_PARAMS[key].kind == "numbers"
    return ((key in ("p", "zoo_p") and payload == FLOAT)
            or (numbers and payload in (FLOAT, NEGATIVE, HUGE)))


#: settings where Caffe and MATLAB differ from PyTorch (the playground then offers diff_fw)
DIFFERING = {"kh": "3", "sk": "false", "sh": "2", "ph": "1", "mode": "Average", "cip": "False"}


def enablers(key):
    """Other values of the link that make ``key``'s widget appear (it is drawn only then)."""
    return {"kw": {"sq": "false"}, "sw": {"sq": "false", "sk": "false"}, "sh": {"sk": "false"},
            "pw": {"sq": "false"}, "dw": {"sq": "false"}, "p": {"mode": "Lp norm"},
            "seed": {"mode": "Stochastic (Caffe)"}, "train": {"mode": "Stochastic (Caffe)"},
            "cip": {"mode": "Average", "ph": "1"}, "in_preset": {"src": "Preset"},
            "m": {"src": "Edit the grid"}, "diff_fw": DIFFERING,
            "bp_gseed": {"bp_grad": "Random"}, "bp_hot_r": {"bp_grad": "One hot cell"},
            "bp_hot_c": {"bp_grad": "One hot cell"}, "pc_kseed": {"pc_kernel": "Random"},
            "pc_text": {"pc_kernel": "Type it in"}, "d1_text": {"d1_kind": "Paste numbers"},
            **{k: {"img_zoom": "true"} for k in ("zoom_size", "zoom_channel", "zoom_top",
                                                 "zoom_left")},
            **{k: {"img_compare": "true"} for k in ("cmp_a", "cmp_b")},
            "zoo_text": {"zoo_input": "Type numbers"},
            **{k: TRAINED for k in ("nn_digit", "nn_shift", "nn_channel")},
            **{k: {"zoo_tab": tab} for k, tab in ZOO_TAB_OF.items()}}.get(key, {})


#: a link to the network page's run that ``open_page`` trains first (the view inside a
#: trained network is drawn only then)
TRAINED = {"nn_epochs": "1"}


def train_on_the_server(query):
    """Train the run a network link names (max pooling, seed 0 and its epochs), once per
    server process, as a Train press would; a link to it then shows the view inside it."""
    if query.get("nn_epochs") == TRAINED["nn_epochs"] and not TRAINED_ONCE:
        at = open_link("network", TRAINED, timeout=120)
        at.button(key="nn_train").click().run()
        assert not at.exception and not at.error
        TRAINED_ONCE.append(True)


TRAINED_ONCE = []


#: the zoo's controls drawn in a tab (the tabs are lazy: only the open one's are drawn)
ZOO_TAB_OF = {**{f"zoo_{t}_{axis}": tab for t, tab in (("frac", "Fractional max"),
                                                          ("gem", "GeM vs LPPool"),
                                                          ("mixed", "Mixed"), ("soft", "SoftPool"))
                 for axis in ("row", "column")},
              **{k: "BlurPool shift lab" for k in ("zoo_shift_input", "zoo_shift_dir",
                                                    "zoo_shift", "zoo_shift_filter",
                                                    "zoo_shift_row")},
              "zoo_code_mode": "Code", "zoo_code_fw": "Code"}


def open_page(page, query):
    if page == "network":
        train_on_the_server(query)
    return open_link(page, query)


# ---------------------------------------------------------------- what the page shows


def formula_captions(at):
    return [c.value for c in at.caption if c.value.startswith(("floor(", "ceil("))]


def assert_main_result(at, page, kernel):
    """The page's main result is there, computed with a ``kernel``×``kernel`` window."""
    assert at.slider(key="kh").value == kernel
    if page == "home":
        others = len(list((ROOT / "pages").glob("*.py"))) - 1  # a link to every other page
        assert "Pooling" in at.markdown[0].value and len(at.get("page_link")) == others
    elif page == "network":  # its own layers, not the sidebar's
        assert at.title[0].value == "Pooling inside a network"
        assert any("2×2 windows and stride 2" in c.value for c in at.caption)
    elif page == "zoo":  # its own windows, not the sidebar's: every mode's output size
        assert at.title[0].value == "Pooling zoo"
        modes = {r["Mode"] for r in at.dataframe[0].value.to_dict("records")}
        assert modes == {label for label, _ in zoo.MODES.values()}
    elif page == "backprop":
        assert at.title[0].value == "Backprop & unpooling" and at.info  # the mode's rule
        assert len(at.get("plotly_chart")) >= 3  # forward, backward, check
    else:
        captions = formula_captions(at)
        assert captions and any(f"({kernel} - 1)" in c for c in captions), captions
        assert at.get("plotly_chart") or page == "image_lab"
        if page == "image_lab":
            assert any(i.caption.startswith("Pooled (") for im in at.get("image")
                       for i in im.proto.imgs)
        if page == "dims":
            assert any("samples →" in m.value for m in at.markdown)


CODE_SPAN = re.compile(r"(`+)(?!`)(.*?[^`])\1(?!`)", re.S)


def outside_code(markdown):
    """Markdown without its inline code spans (CommonMark: a run of n backticks closes n)."""
    return CODE_SPAN.sub("", markdown)


def markdown_texts(at):
    """Everything on the page that Streamlit renders as Markdown."""
    for group in (at.markdown, at.caption, at.warning, at.error, at.info, at.success,
                  at.title, at.header, at.subheader, at.toast):
        yield from (el.value for el in group)


def assert_nothing_raw(at, payloads=MARKUP):
    """No payload and no markup marker outside inline code; no HTML enabled anywhere."""
    for text in markdown_texts(at):
        rest = outside_code(text)
        assert not any(m in rest.lower() for m in MARKERS), text[:300]
        assert not any(p in rest for p in payloads if len(p) > 3), text[:300]
        assert "A" * 50 not in rest  # a long value is cut
    assert not any(el.proto.allow_html for el in list(at.markdown) + list(at.caption))
    assert not at.get("html")


def link_warning(at):
    (notice,) = [w.value for w in at.warning if w.value.startswith(LINK_NOTICE)]
    return notice


def assert_named(notice, key):
    """The warning's line for ``key`` names it, shows the value as code and what is used."""
    spec = LINK_PARAMS[key]
    (line,) = [x for x in notice.splitlines() if x.startswith(f"- {spec.label}: `{key}")]
    assert re.match(rf"- {re.escape(spec.label)}: `{key}(=|`)", line), line
    used = ("the link's matrix is not used." if key == "m"
            else "using the page's own default." if spec.default is None
            else f"using the default {spec.text(spec.default)}.")
    assert line.endswith(used), line
    return line


def fallback(at, key):
    """The value a refused ``key`` takes: its default, except the stride while "Stride =
    kernel size" is ticked, which shows the stride in force (the kernel)."""
    if key in ("sh", "sw") and at.session_state["sk"]:
        return at.session_state["kh" if key == "sh" or at.session_state["sq"] else "kw"]
    return LINK_PARAMS[key].default


# ---------------------------------------------------------------- one bad value in a link

KEYS = list(LINK_PARAMS)


def page_of(key):
    for page, keys in PAGE_KEYS.items():
        if key in keys:
            return page
    return PAGES[SIDEBAR.index(key) % len(PAGES)]  # the sidebar's keys go round every page


def one_field_cases():
    """Every key with two hostile payloads (round the list), a few with more."""
    cases, i = [], 0
    for key in KEYS:
        picked = []
        while len(picked) < 2:
            payload = PAYLOADS[i % len(PAYLOADS)]
            i += 1
            if not is_valid(key, payload):
                picked.append(payload)
        cases += [(key, p) for p in picked]
    cases += [("mode", UNKNOWN), ("fw", "tensorflow2"), ("pad", "SAMEISH"), ("kh", HUGE),
              ("rows", HUGE), ("rseed", FLOAT), ("bp_seed", FLOAT), ("m", LONG), ("m", MD_LINK),
              ("m", "1,2;3"), ("m", "1,nan"), ("m", ";".join(["1"] * 40))]
    return cases


def case_id(case):
    key, payload = case
    text = repr(payload)
    return f"{key}-{text[:24]}{'…' if len(text) > 24 else ''}"


@pytest.mark.parametrize("key,payload", one_field_cases(), ids=map(case_id, one_field_cases()))
def test_a_bad_value_falls_back_to_its_default_and_is_named(key, payload):
    page = page_of(key)
    valid, kernel = ({"mode": "Average"}, 2) if key == "kh" else ({"kh": "3"}, 3)
    at = open_page(page, {**enablers(key), **valid, key: payload})

    notice = link_warning(at)
    line = assert_named(notice, key)
    if isinstance(payload, list):
        assert "given 2 times (`3`, `4`)" in line
    assert len(notice) < 1500  # a 100 KB value is cut, not echoed
    assert_nothing_raw(at)

    spec = LINK_PARAMS[key]
    if key == "m":  # the grid starts from the usual matrix; the page writes that one back
        assert re.fullmatch(r"[-0-9.,;e]+", at.query_params.get("m", "0"))
        assert at.data_editor, "the editable grid is missing"
    else:
        if not spec.dynamic:  # a dynamic default follows the data (the image's busiest spot)
            assert at.session_state[key] == fallback(at, key)
        assert key not in at.query_params
    # the link's valid value still applies, and the page shows its result
    (vkey, vtext), = valid.items()
    assert at.query_params[vkey] == vtext
    assert_main_result(at, page, kernel)
    if key == "kh":
        assert at.session_state["mode"] == "avg"


# ---------------------------------------------------------------- every payload everywhere


def everywhere_cases():
    """Each payload on two pages (round the list), in every key of that page at once."""
    payloads = [p for p in PAYLOADS if p is not LONG]  # 30 × 100 KB would pass Streamlit's limit
    return [(PAGES[(2 * i + j) % len(PAGES)], p) for i, p in enumerate(payloads) for j in (0, 1)]


@pytest.mark.parametrize("page,payload", everywhere_cases(),
                         ids=[f"{pg}-{case_id(('', p))[1:]}" for pg, p in everywhere_cases()])
def test_every_field_hostile_at_once(page, payload):
    keys = [k for k in SIDEBAR + list(PAGE_KEYS.get(page, ())) if k != "kh"]
    hostile = [k for k in keys if not is_valid(k, payload)]
    at = open_page(page, {"kh": "3", **{k: payload for k in hostile}})

    notice = link_warning(at)
    for key in hostile:
        assert_named(notice, key)
    assert_nothing_raw(at)
    for key in hostile:
        assert key not in at.query_params or key == "m"
        if key in at.session_state and key != "m" and not LINK_PARAMS[key].dynamic:
            assert at.session_state[key] == fallback(at, key), key
    assert at.query_params["kh"] == "3"
    assert_main_result(at, page, 3)


# ---------------------------------------------------------------- good links


def test_a_clean_link_shows_no_warning_and_nothing_raw():
    for page in PAGES:
        at = open_page(page, {"kh": "3", "mode": "Average"})
        assert not any(w.value.startswith(LINK_NOTICE) for w in at.warning)
        assert_nothing_raw(at)  # the check itself finds none of its markers on a clean page
        assert_main_result(at, page, 3)


@pytest.mark.parametrize("key,text,value,written", [
    ("mode", "avg", "avg", "Average"), ("mode", "AVERAGE", "avg", "Average"),
    ("fw", "tensorflow", "tensorflow", "TensorFlow"), ("pad", "same", "same", "SAME"),
    ("kh", "3.0", 3, "3"), ("kh", "+3", 3, "3"), ("sq", "FALSE", False, "false"),
    ("rows", " 5", 5, "5"),
])
def test_a_good_value_spelled_differently_is_taken_and_rewritten(key, text, value, written):
    page = page_of(key)
    at = open_page(page, {key: text})
    assert at.session_state[key] == value
    assert at.query_params[key] == written
    assert not any(w.value.startswith(LINK_NOTICE) for w in at.warning)


def test_the_warning_stays_until_a_setting_changes():
    at = open_page("playground", {"kh": "3", "rows": "1e9"})
    assert "`rows=1e9` is out of range (2–32)" in link_warning(at)
    at.run()  # a rerun that changes no setting (e.g. another widget of the page)
    assert link_warning(at)
    at.slider(key="kh").set_value(4).run()
    assert not any(w.value.startswith(LINK_NOTICE) for w in at.warning)
    assert not at.exception


def test_a_bad_value_for_a_widget_already_on_screen_keeps_its_value():
    """A value arriving once the widget exists (Streamlit then ignores the URL) is named,
    and the message says the widget keeps its value, not that it went back to the default."""
    at = open_page("playground", {"kh": "3"})
    at.query_params["kh"] = SCRIPT
    at.run()
    assert not at.exception
    assert "- Kernel size H: `kh=<script>alert(1)</script>` is not a number; keeping 3." \
        in link_warning(at)
    assert at.slider(key="kh").value == 3
    assert_nothing_raw(at)


# ---------------------------------------------------------------- the table matches the widgets


def bound_widgets(at):
    for kind in ("slider", "number_input", "selectbox", "radio", "checkbox", "toggle",
                 "select_slider", "text_area", "text_input", "expander"):
        for el in at.get(kind):
            if el.proto.query_param_key:
                yield kind, el.proto


#: links that show each page's bound widgets (some appear only with another value)
TABLE_LINKS = {
    "playground": [{"sq": "false", "sk": "false", "mode": "Lp norm"},
                   {"mode": "Stochastic (Caffe)"},
                   {"mode": "Average", "ph": "1", "kh": "3", "src": "Preset"}, DIFFERING],
    "backprop": [{"bp_grad": "Random"}, {"bp_grad": "One hot cell"}],
    "pool_vs_conv": [{"pc_kernel": "Random"}, {"pc_kernel": "Type it in"}],
    "image_lab": [{"img_zoom": "true", "img_compare": "true", "img_roi": "true",
                   "img_variants": "true"}],
    "dims": [{}, {"d1_kind": "Paste numbers"}],
    "home": [{}],
    "zoo": [{"zoo_input": "Type numbers"},
            *({"zoo_tab": tab} for tab in dict.fromkeys(ZOO_TAB_OF.values()))],
    "network": [TRAINED],
}


def check_widget(kind, proto, spec):
    """One bound widget against its row of the link table."""
    if kind in ("slider", "number_input"):
        low, high = proto.min, proto.max
        if spec.dynamic:  # the table bounds the data-dependent range
            assert spec.lo <= low and high <= spec.hi, spec.key
        else:
            assert (low, high) == (spec.lo, spec.hi), spec.key
            default = proto.default[0] if kind == "slider" else proto.default
            assert default == spec.default, spec.key
        assert spec.kind == ("int" if proto.data_type == 0 else "float"), spec.key
    elif kind in ("selectbox", "radio", "select_slider"):
        labels = list(spec.options.values())
        if spec.dynamic:
            assert set(proto.options) <= set(labels), spec.key
        else:
            assert list(proto.options) == labels, spec.key
        if spec.default is not None:
            index = proto.default if isinstance(proto.default, int) else proto.default[0]
            assert proto.options[int(index)] == spec.text(spec.default), spec.key
    elif kind in ("text_area", "text_input"):
        assert spec.kind == "numbers" and spec.parse(proto.default) == proto.default, spec.key
        if spec.default is not None:
            assert proto.default == spec.default, spec.key
    elif kind == "expander":
        assert spec.kind == "bool" and proto.default_expanded == spec.default, spec.key
    else:
        assert spec.kind == "bool" and proto.default == spec.default, spec.key


def test_every_bound_widget_follows_the_link_table():
    """Ranges, options and defaults of each bound widget equal ``ui.links.LINK_PARAMS``, and
    every value of the table has its widget."""
    seen = set()
    for page in PAGES:
        for link in TABLE_LINKS[page]:
            at = open_page(page, link)
            for kind, proto in bound_widgets(at):
                spec = LINK_PARAMS[proto.query_param_key]
                seen.add(spec.key)
                check_widget(kind, proto, spec)
            if page in TAB_KEYS:  # the tabs: their labels are the link's values
                tabs = TAB_KEYS[page]
                assert [t.label for t in at.tabs][:len(LINK_PARAMS[tabs].options)] == \
                    list(LINK_PARAMS[tabs].options)
                seen.add(tabs)
    assert seen == set(LINK_PARAMS) - {"m"}  # m is the playground's own parameter


# ---------------------------------------------------------------- inline code


@pytest.mark.parametrize("text", [SCRIPT, IMG, JS, MD_LINK, "a`b``c", "`x`", "a\n\n[x](javascript:alert(1))",
                                  "**bold** $x^2$ :red[red] \\", "\u202e\x00\t", UNICODE])
def test_code_spans_hold_any_text(text):
    shown = code(text)
    assert outside_code(shown).strip() == "", shown
    assert "\n" not in shown
    fence = re.match("`+", shown).group()
    assert len(fence) > max((len(r) for r in re.findall("`+", text)), default=0)


def test_code_cuts_long_text():
    assert code(LONG) == f"`{'A' * 40}…` (100,000 characters)"
