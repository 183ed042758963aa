"""Hovering an output cell of a sliding-window figure moves its window there, in the browser.

``st.plotly_chart`` runs no script of ours, and Plotly has no hover that shows another
trace. So :func:`hover_window` mounts a small ``st.components.v2`` component next to
the chart (no iframe; it renders nothing): its script finds the chart's Plotly element
by the chart's key and listens to Plotly's own ``plotly_hover`` / ``plotly_click``
(a tap on a touch screen) and ``plotly_unhover`` events. On an output cell's click
target it outlines that cell's window on the input picture and the cell itself, and
hides the animation's window while the pointer stays; leaving the cell brings the
animation's window back. Until the chart is drawn (the browser loading and running
Plotly can take seconds on a first visit) it shows "Drawing the animation…". The
geometry comes from the core
(:func:`ui.figures.sliding.hover_geometry`, from ``plan_axes``), passed as the
component's data, so the browser draws exactly the taps the core reads.
"""
from __future__ import annotations

import streamlit as st

from ui.figures import WINDOW_COLOR
from ui.figures.sliding import ANIMATED_TRACES, CLICK_TARGETS, hover_geometry

# the animation's traces a hovered cell's window replaces while the pointer stays
HIDDEN_ON_HOVER = (ANIMATED_TRACES[0], ANIMATED_TRACES[1], ANIMATED_TRACES[2], ANIMATED_TRACES[5])

JS = r"""
const NS = 'http://www.w3.org/2000/svg';
const state = window.__poolscopeHover = window.__poolscopeHover || {data: {}, hooked: new WeakSet()};

function rect(g, x, y, w, h, style) {
  const r = document.createElementNS(NS, 'rect');
  r.setAttribute('x', x); r.setAttribute('y', y); r.setAttribute('width', w); r.setAttribute('height', h);
  for (const [k, v] of Object.entries(style)) r.setAttribute(k, v);
  g.appendChild(r);
}

function box(img, drawn) {
  const x = +img.getAttribute('x'), y = +img.getAttribute('y');
  return {x, y, w: +img.getAttribute('width') / drawn[1], h: +img.getAttribute('height') / drawn[0]};
}

// the animation's own window traces (by name: Plotly binds each trace's data to its group)
function animated(gd, d) {
  return [...gd.querySelectorAll('.trace')].filter(e => {
    const cd = e.__data__;
    return cd && cd[0] && cd[0].trace && d.hide.includes(cd[0].trace.name);
  });
}

function hide(gd, d) {
  gd.querySelectorAll('.poolscope-hover').forEach(e => e.remove());
  if (d) animated(gd, d).forEach(e => { e.style.visibility = ''; });
}

function show(gd, d, i, j) {
  hide(gd, d);
  const g = d.geometry;
  const svg = gd.querySelector('svg.main-svg');
  const inImg = gd.querySelector('.subplot.xy .imagelayer image');
  const outImg = gd.querySelector('.subplot.x2y2 .imagelayer image');
  if (!svg || !inImg || !g.rows[i] || !g.cols[j]) return;
  const layer = document.createElementNS(NS, 'g');
  layer.setAttribute('class', 'poolscope-hover');
  layer.setAttribute('data-cell', i + ',' + j);
  layer.setAttribute('pointer-events', 'none');
  const b = box(inImg, g.drawn);
  for (const [r, rOk] of g.rows[i]) for (const [c, cOk] of g.cols[j]) {
    const real = rOk && cOk;
    rect(layer, b.x + (c - g.origin[1]) * b.w, b.y + (r - g.origin[0]) * b.h, b.w, b.h,
      {fill: d.color, 'fill-opacity': real ? 0.3 : 0.12, stroke: d.color, 'stroke-width': 2,
       'data-tap': r + ',' + c, class: real ? 'tap' : 'tap pad'});
  }
  if (outImg) {
    const o = box(outImg, g.out);
    rect(layer, o.x + j * o.w, o.y + i * o.h, o.w, o.h,
      {fill: 'none', stroke: d.color, 'stroke-width': 3, class: 'cell'});
  }
  svg.appendChild(layer);
  animated(gd, d).forEach(e => { e.style.visibility = 'hidden'; });
}

function hook(key) {
  const gd = document.querySelector('.st-key-' + key + ' .js-plotly-plot');
  if (!gd || !gd.on || state.hooked.has(gd)) return;
  state.hooked.add(gd);
  const onPoint = ev => {
    const d = state.data[key];
    const p = ev && ev.points && ev.points[0];
    if (!d || !p || p.data.name !== d.targets) return;
    const k = p.pointNumber, cols = d.geometry.out[1];
    show(gd, d, Math.floor(k / cols), k % cols);
  };
  gd.on('plotly_hover', onPoint);
  gd.on('plotly_click', onPoint);
  gd.on('plotly_unhover', () => hide(gd, state.data[key]));
}

// until the chart is drawn (the browser loads and runs Plotly, then draws), say so
function busy(parent, key) {
  let note = parent.querySelector('.poolscope-busy');
  const drawn = document.querySelector('.st-key-' + key + ' .js-plotly-plot .main-svg');
  if (drawn) { if (note) note.remove(); return; }
  if (!note) {
    note = document.createElement('div');
    note.className = 'poolscope-busy';
    note.setAttribute('role', 'status');
    note.style.cssText = 'font-size: 0.875rem; opacity: 0.7; padding: 0.25rem 0;';
    note.textContent = '⏳ Drawing the animation…';
    parent.appendChild(note);
  }
}

export default function (component) {
  const { data, parentElement } = component;
  state.data[data.key] = data;
  const tick = () => { busy(parentElement, data.key); hook(data.key); };
  tick();
  const timer = setInterval(tick, 250);  // a rerun may mount a new chart
  return () => clearInterval(timer);
}
"""

_COMPONENT = st.components.v2.component("poolscope.hover_window", js=JS, isolate_styles=False)


def hover_window(chart_key: str, x_shape, kwargs: dict) -> None:
    """Make hovering (or tapping) an output cell of the ``sliding_figure`` drawn with
    ``st.plotly_chart(..., key=chart_key)`` outline that cell's window on its input."""
    _COMPONENT(key=f"{chart_key}_hover",
               data={"key": chart_key, "targets": CLICK_TARGETS, "color": WINDOW_COLOR,
                     "hide": list(HIDDEN_ON_HOVER), "geometry": hover_geometry(x_shape, kwargs)})
