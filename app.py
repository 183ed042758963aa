"""Poolscope: see how pooling layers in convolutional networks compute their output.

Run with ``streamlit run app.py``. The navigation and the shared sidebar of
pooling settings live here; each page is a short script in ``pages/``.
"""
from pathlib import Path

import streamlit as st

from ui import code_loader, imageio, presenter, sidebar, startup

#: the browser tab's icon, shipped (assets/make_icon.py): nothing fetched from a font server
ICON = str(Path(__file__).resolve().parent / "assets" / "icon.png")

imageio.keep_uploads_in_memory()  # uploads never touch the disk (see its docstring)
startup.freeze_startup_objects()  # full garbage collections skip the imported libraries
st.set_page_config(page_title="Poolscope", page_icon=ICON, layout="wide",
                   initial_sidebar_state=presenter.sidebar_state())  # folded for a projector

# Each url_path equals its file's name: a first visit to a page's link on a fresh server
# resolves the same page before and after Streamlit switches to this navigation.
PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/playground.py", title="Matrix playground", icon=":material/grid_on:", url_path="playground"),
    st.Page("pages/lesson.py", title="Lesson: pooling in 10 steps", icon=":material/school:",
            url_path="lesson"),
    st.Page("pages/image_lab.py", title="Image lab", icon=":material/image:", url_path="image_lab"),
    st.Page("pages/backprop.py", title="Backprop & unpooling", icon=":material/undo:", url_path="backprop"),
    st.Page("pages/pool_vs_conv.py", title="Pooling vs strided conv", icon=":material/compare:",
            url_path="pool_vs_conv"),
    st.Page("pages/dims.py", title="1-D, 3-D & adaptive", icon=":material/view_in_ar:", url_path="dims"),
    st.Page("pages/network.py", title="Pooling inside a network", icon=":material/hub:",
            url_path="network"),
    st.Page("pages/zoo.py", title="Pooling zoo", icon=":material/pets:", url_path="zoo"),
]

page = st.navigation(PAGES)
startup.mark_app_run()  # read by each page's startup.require_navigation()
sidebar.sidebar()
code_loader.code_loader()  # the sidebar's "Load settings from code"
presenter.setup(page.url_path)  # its toggle; large text and the keys when on
page.run()
sidebar.share_link()  # the link holds the page's own values too
