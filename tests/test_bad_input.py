"""Hostile input costs the server nothing (issue 21): each case bounded, through the pages.

A class shares one server, and Python converts typed numbers and decodes images one at a
time holding the interpreter lock: a visitor's huge number, huge paste or pathological
JPEG would make every other session wait. So the text is refused by its length and its
count of values before any number is converted, a number by its length, the verdict on a
text is cached for the reruns that follow, a JPEG of too many scans is refused before it
is decoded, and a non-number in the matrix grid is taken out before Streamlit's editor
parses it (which logged a traceback on the server at every rerun). The timings are
``bench/bad_input.py``'s; these tests check what is refused, with which message, and that
the expensive step never runs.
"""
import io
import logging
import sys

import numpy as np
import pytest
from PIL import Image, ImageFile
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from test_playground import animation, caption
from ui import imageio, parsing

sys.path.insert(0, str(ROOT / "tests" / "data"))
import make_bad  # noqa: E402

APP = str(ROOT / "app.py")
HUGE_NUMBER = "1" * 100_000 + "x"  # the regex's worst case: a long run of digits, then a non-digit
MILLIONS = ", ".join(["1"] * 2_000_000)  # 2,000,000 numbers, 5,999,998 characters


@pytest.fixture
def conversions(monkeypatch):
    """Count the numbers converted (every one goes through ``parsing.parse_number``)."""
    calls = []
    real = parsing.parse_number

    def counted(token, where):
        calls.append(token)
        return real(token, where)

    monkeypatch.setattr(parsing, "parse_number", counted)
    parsing.parse_numbers.cache_clear()
    parsing.parse_matrix.cache_clear()
    yield calls
    parsing.parse_numbers.cache_clear()
    parsing.parse_matrix.cache_clear()


# ----------------------------------------------------------------------------- typed numbers


def test_a_number_longer_than_40_characters_is_refused_by_its_length():
    with pytest.raises(ValueError) as info:
        parsing.parse_number(HUGE_NUMBER, "Value 1")
    message = str(info.value)
    assert message.startswith("Value 1: '111111111111'… (100,001 characters) is longer than "
                              "any number taken here (at most 40 characters)")
    assert len(message) < 250  # the text itself is not echoed back
    assert parsing.parse_number("-1.2345678901234567e-300", "v") == -1.2345678901234567e-300
    assert parsing.parse_number("1" * 40, "v") == float("1" * 40)


def test_the_number_pattern_fails_in_linear_time_on_a_long_non_number():
    # "1"*n + "x" backtracked over every split of the digits (O(n²): 20,001 characters took
    # 8 s); below the length limit too, each refusal is now one pass
    for token in ("1" * 39 + "x", "1." + "1" * 37 + "x", "1e" + "9" * 37 + "x", "1..2", "e5"):
        with pytest.raises(ValueError, match="is not a number"):
            parsing.parse_number(token, "v")
    assert parsing._NUMBER.fullmatch("1" * 20_000 + "x") is None


def test_a_pasted_signal_of_two_million_numbers_is_refused_before_one_is_converted(conversions):
    with pytest.raises(ValueError) as info:
        parsing.parse_numbers(MILLIONS)
    assert str(info.value) == ("The text is 5,999,998 characters long; 512 numbers (the most "
                               "taken here) fit in 24,576. Paste at most 512 numbers.")
    assert conversions == []
    short = ",".join(["1"] * 5000)  # within the length limit: counted, then refused
    with pytest.raises(ValueError, match=r"^The text has 5,000 values; at most 512 are taken"):
        parsing.parse_numbers(short)
    assert conversions == []
    assert parsing.parse_numbers(", ".join(["2.5"] * 512)).shape == (512,)


def test_the_verdict_on_a_text_is_cached(conversions):
    text = "1, 2, 3, x7"
    for _ in range(3):
        with pytest.raises(ValueError, match="Value 4: 'x7' is not a number"):
            parsing.parse_numbers(text)
    assert conversions == ["1", "2", "3", "x7"]  # converted once, refused thrice
    first = parsing.parse_numbers("4 5")
    first[0] = 99  # a caller's change does not reach the cache
    assert parsing.parse_numbers("4 5").tolist() == [4, 5]
    assert conversions[-2:] == ["4", "5"] and len(conversions) == 6
    assert parsing.parse_matrix("1 2; 3 4").tolist() == parsing.parse_matrix("1 2; 3 4").tolist()
    assert parsing.parse_matrix.cache_info().hits >= 1


def test_a_matrix_is_refused_by_its_length_and_its_count_first(conversions):
    with pytest.raises(ValueError, match=r"^The kernel is 100,001 characters long; 1,024 numbers"):
        parsing.parse_matrix(HUGE_NUMBER, "The kernel")
    with pytest.raises(ValueError, match=r"^The matrix has 2,000 values; at most 1,024"):
        parsing.parse_matrix(" ".join(["1"] * 2000))
    assert conversions == []
    with pytest.raises(ValueError, match=r"Row 1, value 2: '1111.+\(41 characters\) is longer"):
        parsing.parse_matrix("1, " + "1" * 41)


def page(name):
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(f"pages/{name}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def errors(at):
    return [e.value for e in at.error]


def test_the_typed_kernel_field_refuses_a_huge_number_and_keeps_the_text():
    at = page("pool_vs_conv")
    at.radio(key="pc_kernel").set_value("typed").run()
    at.text_area(key="pc_text").set_value("1" * 100_000).run()
    assert not at.exception
    (message,) = [e for e in errors(at) if "characters long" in e]
    assert message.startswith("The kernel is 100,000 characters long; 1,024 numbers (the most "
                              "taken here) fit in 49,152. Type a smaller matrix.")
    assert at.text_area(key="pc_text").value == "1" * 100_000  # nothing typed is lost
    at.text_area(key="pc_text").set_value("1" * 30_000 + "x").run()  # within the length limit
    assert any("(30,001 characters) is longer than any number" in e for e in errors(at))
    at.run()  # the rerun that follows: the same text, the cached verdict
    assert not at.exception and any("(30,001 characters)" in e for e in errors(at))


def test_the_signal_field_refuses_two_million_numbers_and_keeps_the_last_signal():
    at = page("dims")
    at.radio(key="d1_kind").set_value("paste").run()
    at.text_area(key="d1_text").set_value(MILLIONS).run()
    assert not at.exception
    assert any(e.startswith("The text is 5,999,998 characters long") for e in errors(at))
    assert any("12 samples → 6 outputs" in m.value for m in at.markdown)  # the last valid one
    assert at.text_area(key="d1_text").value == MILLIONS


# ----------------------------------------------------------------------------- the grid


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def streamlit_log():
    """Every record Streamlit's loggers write. Each module has its own logger that does not
    propagate (``streamlit.logger.get_logger``), so the handler goes on each of them."""
    import streamlit.elements.widgets.data_editor  # noqa: F401  (its logger exists)

    handler = Records()
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
               if name == "streamlit" or name.startswith("streamlit.")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler.records
    for logger in loggers:
        logger.removeHandler(handler)


def test_a_non_number_in_the_grid_is_refused_without_a_server_traceback(streamlit_log):
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/playground.py")
    at.query_params.update(src="edit", rows="2", cols="2")
    at.run()
    # what a browser sends when "abc" is typed or pasted into cell [1, 1], and 9 into [1, 0]
    at.session_state["grid_2x2"] = {"edited_rows": {1: {"1": "abc", "0": "9"}},
                                    "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert errors(at) == ["Cell [1, 1]: 'abc' is not a number; type a number there. The cell "
                          "keeps its last number until then."]
    assert caption(animation(at)) == "out[0, 0] = max(8, 6, 9, 2) = 9"
    at.run()
    logged = [r.getMessage() for r in streamlit_log if r.levelno >= logging.WARNING]
    assert not [m for m in logged if "Failed to parse" in m or "Failed to apply" in m], logged


def test_clean_grid_edits_keeps_numbers_and_takes_out_the_rest():
    state = {"edited_rows": {0: {"0": 1.5, "1": "2/4", "2": True, "9": 3, "_index": "x"},
                             1: {"0": None, "1": "1" * 41}},
             "added_rows": [{"0": "y"}], "deleted_rows": []}
    messages = parsing.clean_grid_edits(state, ["0", "1", "2"])
    assert state["edited_rows"] == {0: {"0": 1.5, "1": 0.5}, 1: {"0": None}}
    assert state["added_rows"] == [{}]
    assert messages[0] == "Cell [0, 2]: 'True' is not a number"
    assert messages[1].startswith("Cell [1, 1]: '111111111111'… (41 characters) is longer")
    assert messages[2] == "Cell [new row 1, 0]: 'y' is not a number"
    assert parsing.clean_grid_edits(None, ["0"]) == []


# ----------------------------------------------------------------------------- JPEG scans


def jpeg(img, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kw)
    return buf.getvalue()


def test_jpeg_scans_counts_the_scans_of_the_first_image_only():
    rgb, gray = Image.new("RGB", (64, 48), (9, 99, 199)), Image.new("L", (64, 48), 77)
    assert imageio.jpeg_scans(jpeg(rgb)) == 1
    assert imageio.jpeg_scans(jpeg(rgb, progressive=True)) == 10  # libjpeg's colour script
    assert imageio.jpeg_scans(jpeg(gray, progressive=True)) == 6
    base = jpeg(rgb, progressive=True)
    # an APP segment holding the bytes FF DA (as an EXIF thumbnail does) is skipped
    app = b"\xff\xe1" + (2 + 6).to_bytes(2, "big") + b"\xff\xda\xff\xda\xff\xda"
    assert imageio.jpeg_scans(base[:2] + app + base[2:]) == 10
    assert imageio.jpeg_scans(base + jpeg(rgb)) == 11  # a preview stored after the image
    # bytes FF D9 (an end-of-image marker) hidden in a comment after the first scan do not
    # hide the scans that follow it
    first_scan_end = base.index(b"\xff\xc4", base.index(b"\xff\xda"))
    com = b"\xff\xfe" + (2 + 2).to_bytes(2, "big") + b"\xff\xd9"
    assert imageio.jpeg_scans(base[:first_scan_end] + com + base[first_scan_end:]) == 10
    assert imageio.jpeg_scans(b"\x89PNG\r\n\x1a\n") == 0
    assert imageio.jpeg_scans(b"\xff\xd8\x00\x00") == 0


def test_a_jpeg_of_300_scans_is_refused_before_it_is_decoded(monkeypatch):
    data = make_bad.many_scans()
    assert len(data) < 300_000 and imageio.jpeg_scans(data) == 300

    def no_decoding(self):
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(imageio.ImageError) as info:
        imageio.load_image(data, "many_scans.jpg")
    assert str(info.value) == make_bad.CASES["many_scans.jpg"].message
    ok = jpeg(Image.new("RGB", (40, 30)), progressive=True)
    monkeypatch.undo()
    assert imageio.load_image(ok).array.shape == (3, 30, 40)  # 10 scans are fine
    assert np.asarray(Image.open(io.BytesIO(data)).size).tolist() == [8000, 5000]
