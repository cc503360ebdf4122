"""Widget rendering: the shields-style badge (SVG), the HTML card with its 30-day sparkline, and
``widget.js``. Pure functions of the data: no I/O, so responses can be cached by ETag."""

from __future__ import annotations

from html import escape

ATTRIBUTION = "Topics: Klout Topic Ontology, CC BY 3.0"
_CHAR_W = 6.5  # Verdana 11px average advance, as shields.io estimates it


def _color(score: float) -> str:
    if score >= 75:
        return "#4c1"
    if score >= 50:
        return "#97ca00"
    if score >= 25:
        return "#dfb317"
    return "#9f9f9f"


def badge_svg(score: float, label: str = "renown") -> str:
    """A shields.io-style flat badge ``label | score``.

    Examples
    --------
    >>> svg = badge_svg(63.24)
    >>> svg.startswith("<svg") and ">63<" in svg
    True
    """
    value = f"{score:.0f}"
    lw = int(len(label) * _CHAR_W + 10)
    vw = int(len(value) * _CHAR_W + 10) + 4
    w = lw + vw
    label_e, value_e = escape(label), escape(value)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" '
        f'aria-label="{label_e}: {value_e}" data-score="{value_e}">'
        f"<title>{label_e}: {value_e}</title>"
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{w}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{vw}" height="20" fill="{_color(score)}"/>'
        f'<rect width="{w}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" font-size="11" '
        'font-family="Verdana,Geneva,DejaVu Sans,sans-serif">'
        f'<text x="{lw / 2:.1f}" y="15" fill="#010101" fill-opacity=".3">{label_e}</text>'
        f'<text x="{lw / 2:.1f}" y="14">{label_e}</text>'
        f'<text x="{lw + vw / 2:.1f}" y="15" fill="#010101" fill-opacity=".3">{value_e}</text>'
        f'<text x="{lw + vw / 2:.1f}" y="14">{value_e}</text></g></svg>'
    )


def sparkline_svg(values: list[float], width: int = 160, height: int = 32) -> str:
    """An inline SVG polyline of ``values`` (oldest first); flat when there are fewer than two.

    Examples
    --------
    >>> "polyline" in sparkline_svg([1.0, 3.0, 2.0])
    True
    """
    if not values:
        values = [0.0]
    if len(values) == 1:
        values = values * 2
    lo, hi = min(values), max(values)
    span = hi - lo or 1.0
    step = (width - 4) / (len(values) - 1)
    pts = " ".join(
        f"{2 + i * step:.1f},{height - 2 - (v - lo) / span * (height - 4):.1f}" for i, v in enumerate(values)
    )
    return (
        f'<svg class="renown-spark" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="30-day trend">'
        f'<polyline fill="none" stroke="#3b82f6" stroke-width="2" points="{pts}"/></svg>'
    )


_CARD_CSS = (
    ".renown-card{font:14px/1.4 system-ui,sans-serif;border:1px solid #ddd;border-radius:8px;padding:12px;"
    "max-width:320px;background:#fff;color:#222}.renown-card h3{margin:0 0 4px;font-size:16px}"
    ".renown-score{font-size:32px;font-weight:700}.renown-topics{margin:6px 0;padding:0;list-style:none}"
    ".renown-topics li{display:inline-block;margin:2px;padding:1px 6px;border-radius:10px;background:#eef}"
    ".renown-attr{color:#777;font-size:11px}"
)


def card_html(profile_id: str, name: str, score: float, trend: list[float], topics: list[str]) -> str:
    """The embeddable card (an HTML fragment with its own style): name, score, 30-day sparkline, top
    topics and the ontology attribution.

    Examples
    --------
    >>> html = card_html("p1", "Ada <3", 63.2, [60, 61, 63.2], ["python"])
    >>> 'data-score="63"' in html and "Ada &lt;3" in html
    True
    """
    change = trend[-1] - trend[0] if len(trend) > 1 else 0.0
    items = "".join(f"<li>{escape(t)}</li>" for t in topics[:5])
    return (
        f'<div class="renown-card" data-renown-card="{escape(profile_id)}" data-score="{score:.0f}">'
        f"<style>{_CARD_CSS}</style>"
        f"<h3>{escape(name)}</h3>"
        f'<div><span class="renown-score">{score:.0f}</span> '
        f'<span class="renown-change">{change:+.1f} in 30 days</span></div>'
        f"{sparkline_svg(trend)}"
        f'<ul class="renown-topics">{items}</ul>'
        f'<div class="renown-attr">Renown score · {ATTRIBUTION}</div></div>'
    )


WIDGET_JS = r"""/* Renown widgets: <div data-renown-profile="ID" data-renown-key="pk_..."></div>
   <script src="https://API/v1/widgets/widget.js" async></script> */
(function () {
  var script = document.currentScript;
  var src = script ? new URL(script.src) : null;
  var base = src ? src.origin + src.pathname.replace(/\/v1\/widgets\/widget\.js$/, "") : "";
  function render(el) {
    if (el.getAttribute("data-renown-state")) return;
    el.setAttribute("data-renown-state", "loading");
    var id = encodeURIComponent(el.getAttribute("data-renown-profile"));
    var key = encodeURIComponent(el.getAttribute("data-renown-key") || "");
    var url = base + "/v1/widgets/" + id + "/card?key=" + key;
    fetch(url, { mode: "cors", credentials: "omit" })
      .then(function (r) { if (!r.ok) throw new Error("renown: HTTP " + r.status); return r.text(); })
      .then(function (html) {
        var root = el.shadowRoot || el.attachShadow({ mode: "open" });
        root.innerHTML = html;
        var card = root.querySelector("[data-score]");
        if (card) el.setAttribute("data-renown-score", card.getAttribute("data-score"));
        el.setAttribute("data-renown-state", "ready");
      })
      .catch(function (err) {
        el.setAttribute("data-renown-state", "error");
        if (window.console) console.warn(err);
      });
  }
  function scan() { document.querySelectorAll("[data-renown-profile]").forEach(render); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan); else scan();
  window.Renown = { scan: scan };
})();
"""
