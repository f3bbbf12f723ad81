/* Layout cues that depend on the reader's screen (styles in custom.css).
 *
 * Wide boxes that scroll sideways (the theme's table wrappers, code, cell outputs, display
 * math): a box that overflows gets the class .scrolls-x, and .more-left / .more-right while
 * there is more to see on that side (its edge fades out); a hint above it ("Scroll for more",
 * with an arrow for each side) says so. The hint is hidden from assistive technology, which
 * reads the whole table anyway.
 *
 * Figures: the link around each figure's image (_ext/html_fixes.py) gets .is-shrunk when the
 * image is drawn at less than 80% of its natural width, which shows a line offering the
 * full-size figure.
 *
 * window.il2Layout.refresh() recomputes everything at once (the browser tests call it before
 * measuring); the page also recomputes after loading, resizing, fonts, math typesetting, and
 * whenever a hidden block (code, a dropdown) is opened.
 */
(function () {
  "use strict";

  const SCROLLERS = [
    ".pst-scrollable-table-container",
    "div.highlight > pre",
    ".cell_output > .output",
    "div.math",
    "mjx-container[display='true']",
  ]
    .map((s) => ".bd-article " + s)
    .join(", ");
  const SHRUNK = 0.8; // below this share of its natural width, a figure offers its full size
  const hints = new WeakMap();
  const watched = new WeakSet();
  let resizeObserver = null;

  function makeHint(box) {
    const hint = document.createElement("div");
    hint.className = "scroll-hint";
    hint.setAttribute("aria-hidden", "true");
    hint.innerHTML =
      '<span class="arrow arrow-left">\u2190</span><span>Scroll for more</span><span class="arrow arrow-right">\u2192</span>';
    box.before(hint);
    hints.set(box, hint);
    return hint;
  }

  function updateBox(box) {
    const max = box.scrollWidth - box.clientWidth;
    const overflows = box.clientWidth > 0 && max > 1;
    const left = overflows && box.scrollLeft > 1;
    const right = overflows && box.scrollLeft < max - 1;
    box.classList.toggle("scrolls-x", overflows);
    box.classList.toggle("more-left", left);
    box.classList.toggle("more-right", right);
    if (overflows) {
      const caption = box.querySelector(":scope > table > caption");
      if (caption) {
        const top = caption.getBoundingClientRect().bottom - box.getBoundingClientRect().top;
        box.style.setProperty("--scroll-caption-height", Math.ceil(top) + "px");
      }
    }
    let hint = hints.get(box);
    if (!hint && !overflows) return;
    if (!hint) hint = makeHint(box);
    hint.hidden = !overflows;
    hint.querySelector(".arrow-left").style.visibility = left ? "visible" : "hidden";
    hint.querySelector(".arrow-right").style.visibility = right ? "visible" : "hidden";
  }

  function updateFigure(img) {
    const link = img.closest("a.figure-full-size");
    if (!link) return;
    const shrunk = img.complete && img.naturalWidth > 0 && img.clientWidth < SHRUNK * img.naturalWidth;
    link.classList.toggle("is-shrunk", shrunk);
  }

  function refresh() {
    document.querySelectorAll(SCROLLERS).forEach((box) => {
      if (!watched.has(box)) {
        watched.add(box);
        box.addEventListener("scroll", () => updateBox(box), { passive: true });
        if (resizeObserver) resizeObserver.observe(box);
      }
      updateBox(box);
    });
    document.querySelectorAll(".bd-article a.figure-full-size img").forEach((img) => {
      if (!watched.has(img)) {
        watched.add(img);
        img.addEventListener("load", () => updateFigure(img));
      }
      updateFigure(img);
    });
    document.documentElement.dataset.layoutCues = "ready";
  }

  let pending = null;
  function later() {
    if (pending === null) pending = requestAnimationFrame(() => ((pending = null), refresh()));
  }

  window.il2Layout = { refresh: refresh };
  if ("ResizeObserver" in window) resizeObserver = new ResizeObserver(later);
  document.addEventListener("DOMContentLoaded", refresh);
  window.addEventListener("load", () => {
    refresh();
    const mathjax = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
    if (mathjax) mathjax.then(later); // display math is typeset after the page has loaded
  });
  window.addEventListener("resize", later);
  document.addEventListener("toggle", later, true); // <details> opened or closed
  if (document.fonts) document.fonts.ready.then(later);
})();
