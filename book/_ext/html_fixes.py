"""Sphinx extension: fixes to the HTML that the theme and the extensions emit.

* Duplicate script tags are dropped. sphinx-thebe (loaded by Jupyter Book by default, unused
  here) adds its inline configuration script twice with Sphinx 7, so every page raised the
  browser error "Identifier 'THEBE_JS_URL' has already been declared" (tests/test_browser.py).
* The "Show code cell source" toggles have no ``aria-label``. myst-nb labels every toggle
  "Toggle hidden content", a name that does not contain its visible text (axe-core's serious
  ``label-content-name-mismatch``); without the label, the name is the visible text.
* Each entry of the reference list is a ``listitem``. docutils gives it the role
  ``doc-biblioentry``, deprecated in WAI-ARIA 1.3 and not an allowed child of the ``list``
  around it (axe-core's critical ``aria-required-children``).
* Each figure's image links to the image file at full size (a reader on a phone opens and zooms
  it; the figure itself shrinks to the column). ``_static/layout.js`` and ``custom.css`` show a
  hint on the link when the image is drawn well below its natural size.
* The theme's search button and colour-mode button are rendered from corrected templates
  (``_ext/templates/components``): their ``aria-label`` did not contain their visible text.
"""

from __future__ import annotations

import posixpath
import urllib.parse
from pathlib import Path

from docutils import nodes

TEMPLATES = Path(__file__).parent / "templates"


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        # same file (or same inline body; None and "" both mean inline) = same script, whatever its priority
        key = (getattr(script, "filename", script) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: the builder keeps its own reference to this list


# --- code-cell toggles -------------------------------------------------------------------------


def visit_hide_cell_input(self, node):
    """myst-nb's ``visit_HideCellInput`` without the ``aria-label`` on ``<summary>``."""
    from html import escape

    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n<summary>\n')
    self.body.append(f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n')
    self.body.append(f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n')
    self.body.append("</summary>\n")


def depart_hide_cell_input(self, node):
    self.body.append("</details>\n")


# --- reference list --------------------------------------------------------------------------


def visit_citation(self, node):
    """docutils' ``visit_citation`` with the role ``listitem`` for each entry."""
    if not isinstance(node.previous_sibling(), type(node)):
        self.body.append('<div role="list" class="citation-list">\n')
    self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))


def depart_citation(self, node):
    self.body.append("</div>\n")
    if not isinstance(node.next_node(descend=False, siblings=True), type(node)):
        self.body.append("</div>\n")


# --- figures ---------------------------------------------------------------------------------


class full_size_link(nodes.General, nodes.Element):  # noqa: N801 (docutils names nodes in lower case)
    """A link around a figure's image, to the image file itself."""


def _link_figure_images(app, doctree, docname):
    if app.builder.format != "html":
        return
    for figure in list(doctree.findall(nodes.figure)):
        for image in list(figure.findall(nodes.image)):
            if isinstance(image.parent, nodes.reference) or any(k in image for k in ("scale", "width", "height")):
                continue  # already a link, or one Sphinx makes itself (html_scaled_image_link)
            link = full_size_link()
            image.replace_self(link)
            link.append(image)


def visit_full_size_link(self, node):
    image = node.next_node(nodes.image)
    uri = image["uri"]  # chosen among the candidates by the builder before writing
    if uri in self.builder.images:
        uri = posixpath.join(self.builder.imgpath, urllib.parse.quote(self.builder.images[uri]))
    self.body.append(f'<a class="figure-full-size" href="{self.attval(uri)}">')


def depart_full_size_link(self, node):
    self.body.append("</a>")


# --- setup ------------------------------------------------------------------------------------


def _override_visitors(app):
    """Registered once every extension is set up, so these replace myst-nb's and docutils' visitors."""
    from myst_nb.sphinx_ import HideCodeCellNode

    app.add_node(HideCodeCellNode, override=True, html=(visit_hide_cell_input, depart_hide_cell_input))
    app.add_node(nodes.citation, override=True, html=(visit_citation, depart_citation))


def _add_templates(app, config):
    # first: the project's components replace the theme's of the same name
    config.templates_path = [str(TEMPLATES), *config.templates_path]


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=100)  # before handlers that return a template
    app.connect("config-inited", _add_templates)
    app.connect("builder-inited", _override_visitors)
    app.connect("doctree-resolved", _link_figure_images)
    app.add_node(
        full_size_link,
        html=(visit_full_size_link, depart_full_size_link),
        latex=(lambda self, node: None, lambda self, node: None),
        text=(lambda self, node: None, lambda self, node: None),
    )
    return {"version": "1.1", "parallel_read_safe": True, "parallel_write_safe": True}
