"""Home: what pooling is, in two sentences, and a link to every page."""
import streamlit as st

from ui import startup

startup.require_navigation()

st.title("Poolscope")
st.markdown(
    "**Pooling** slides a small window over a feature map and replaces each window by one "
    "number — its maximum, its average, or another summary — so the map gets smaller while "
    "the strongest or typical responses survive. Poolscope shows every window, every value "
    "and the output-size formula with your numbers, and gives the numbers PyTorch and "
    "TensorFlow give."
)
st.caption("The settings in the sidebar are shared by every page and kept in the URL, "
           "so a copied link reopens the same view.")

LINKS = [
    ("pages/playground.py", ":material/grid_on:", "Matrix playground",
     "Watch the window slide over a small matrix, step by step, with the formula."),
    ("pages/lesson.py", ":material/school:", "Lesson: pooling in 10 steps",
     "From the 4×4 seed example to backprop through max: predict each step, then see it."),
    ("pages/image_lab.py", ":material/image:", "Image lab",
     "Upload a photo, pool it, compare modes, download the result."),
    ("pages/backprop.py", ":material/undo:", "Backprop & unpooling",
     "Where does the gradient go? Max routes it, average spreads it."),
    ("pages/pool_vs_conv.py", ":material/compare:", "Pooling vs strided convolution",
     "Same size, different numbers, zero parameters."),
    ("pages/dims.py", ":material/view_in_ar:", "1-D, 3-D & adaptive",
     "Signals, volumes, and pooling to a fixed output size."),
    ("pages/network.py", ":material/hub:", "Pooling inside a network",
     "Train a tiny CNN on handwritten digits with each kind of downsampling, and compare."),
    ("pages/zoo.py", ":material/pets:", "Pooling zoo",
     "Every mode, classic and modern (fractional, BlurPool, GeM, SoftPool, SPP), side by side."),
]
for path, icon, title, blurb in LINKS:
    st.page_link(path, label=f"**{title}** — {blurb}", icon=icon)
