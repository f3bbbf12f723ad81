"""Sphinx extension: the PDF is a manuscript, not Sphinx's generic manual.

For the LaTeX builder only (the HTML pages are untouched):

* **Title block.** Title (``_config.yml``), authors (``CITATION.cff``) and the date of the
  commit the book is built from (``git log -1 --format=%cs``), never the day of the build.
  The same commit time is written to ``latexmkrc`` as ``SOURCE_DATE_EPOCH``, so XeLaTeX
  stamps the PDF with it (creation date and file identifier) and a rebuild of the same
  commit gives the same bytes.
* **Article layout.** ``howto`` class (no chapter title pages): each page of the book is a
  section. The landing page's own sections come first (the structured abstract), then the
  parts of ``_toc.yml`` in order. Sections are numbered where the HTML numbers them (the
  part with ``numbered: true``), so "Section 4", "Table 4.2" and "Fig. 4.1" mean the same
  in both; figures and tables of unnumbered pages are numbered 1, 2, ... across them, as
  in HTML. The appendix part is one section, "Appendices", holding its pages; the
  bibliography page's entries close the document ("References").
* **What is not printed.** Code cells (hidden under toggles in HTML) and dropdowns
  (collapsed in HTML: the figures' text descriptions).

The page geometry (``manuscript_page`` in ``_config.yml``) is set here, and read by
``latex_tables`` (fitting the tables) and by ``tests/test_pdf.py`` (checking the margins).
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import yaml
from docutils import nodes
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.texescape import escape

LOGGER = logging.getLogger(__name__)
CM = 72.27 / 2.54  # TeX points per centimetre

#: Default page: A4, 11 pt, 2.5 cm margins (overridden by ``manuscript_page`` in _config.yml).
DEFAULT_PAGE = {"paper": "a4paper", "width_cm": 21.0, "height_cm": 29.7, "margin_cm": 2.5, "pointsize": 11}


# ---------------------------------------------------------------------------------------
# Title block: authors and commit date
# ---------------------------------------------------------------------------------------


def cff_authors(cff: Path) -> list[str]:
    """The authors' names as CITATION.cff gives them (a person's given and family names, or an entity's name)."""
    data = yaml.safe_load(cff.read_text(encoding="utf-8"))
    names = []
    for author in data.get("authors", []):
        if "name" in author:
            names.append(str(author["name"]))
        else:
            parts = [author.get(k) for k in ("given-names", "name-particle", "family-names", "name-suffix")]
            names.append(" ".join(str(p) for p in parts if p))
    if not names:
        raise ValueError(f"{cff}: no authors")
    return names


def commit_date(folder: Path) -> tuple[str, int, str]:
    """(ISO date, Unix time, short hash) of the commit checked out in ``folder``.

    Outside a git checkout (a source archive), ``SOURCE_DATE_EPOCH`` gives the date, as
    reproducible-builds tools set it; without either the build stops rather than guess.
    """
    try:
        out = subprocess.run(
            ["git", "-C", str(folder), "log", "-1", "--format=%cs%n%ct%n%h"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        return out[0], int(out[1]), out[2]
    except (OSError, subprocess.CalledProcessError, IndexError, ValueError):
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        if epoch is None:
            raise RuntimeError(
                f"{folder} is not a git checkout and SOURCE_DATE_EPOCH is not set: the manuscript has no date"
            ) from None
        return datetime.fromtimestamp(int(epoch), UTC).date().isoformat(), int(epoch), ""


def page_settings(config) -> dict:
    page = dict(DEFAULT_PAGE)
    page.update(config.manuscript_page or {})
    return page


def text_widths(config) -> tuple[float, float]:
    """Width of the text block in TeX points: (portrait, landscape)."""
    page = page_settings(config)
    margin = 2 * page["margin_cm"] * CM
    return page["width_cm"] * CM - margin, page["height_cm"] * CM - margin


def _configure(app, config) -> None:
    """The page and the LaTeX settings that do not depend on the checkout (read by the LaTeX builder only)."""
    page = page_settings(config)
    elements = config.latex_elements
    elements["papersize"] = page["paper"]
    elements["pointsize"] = f"{page['pointsize']}pt"
    margin = f"{page['margin_cm']}cm"
    setup = (f"hmargin={margin}, vmargin={margin}", elements.get("sphinxsetup"))
    elements["sphinxsetup"] = ", ".join(s for s in setup if s)
    elements["preamble"] = "\\usepackage{manuscript}\n" + elements.get("preamble", "")
    settings = {
        "maketitle": "\\manuscriptmaketitle",  # manuscript.sty: title, authors, commit date
        "tableofcontents": "",
        "printindex": "",
        "makeindex": "",
        "fncychap": "",
        # figures stay where the text puts them, as in HTML (a float would wait past a long table's pages)
        "figure_align": "H",
    }
    for key, value in settings.items():
        elements.setdefault(key, value)


def _title_block(app) -> None:
    """Authors (CITATION.cff) and the commit's date, for a LaTeX build only (an HTML build needs no git)."""
    if app.builder.name != "latex":
        return
    srcdir = Path(app.srcdir)
    iso, epoch, short = commit_date(srcdir)
    authors = cff_authors(srcdir.parent / "CITATION.cff")
    app.manuscript_epoch = epoch
    commit = f" (commit {short})" if short else ""
    context = app.builder.context
    context["date"] = iso
    context["preamble"] += (
        f"\\manuscriptauthors{{{', '.join(escape(a) for a in authors)}}}\n"
        f"\\manuscriptdate{{{iso}}}{{{escape(commit)}}}\n"
    )
    # jupyter-book then sets the title and file name of this entry from _config.yml
    docname, target, title = app.config.latex_documents[0][:3]
    app.config.latex_documents = [(docname, target, title, " \\and ".join(escape(a) for a in authors), "howto")]


def _stamp_latexmkrc(app, exception) -> None:
    """XeLaTeX reads SOURCE_DATE_EPOCH for the PDF's dates and identifier: the commit time, not the clock."""
    if exception is not None or app.builder.name != "latex":
        return
    rc = Path(app.outdir) / "latexmkrc"
    if not rc.exists():
        return
    line = f"$ENV{{'SOURCE_DATE_EPOCH'}} = '{app.manuscript_epoch}';\n"
    text = rc.read_text(encoding="utf-8")
    if line not in text:
        rc.write_text(line + text, encoding="utf-8")


# ---------------------------------------------------------------------------------------
# Structure of the assembled document
# ---------------------------------------------------------------------------------------


def _raw(latex: str) -> nodes.raw:
    return nodes.raw("", latex, format="latex")


class ManuscriptStructure(SphinxPostTransform):
    """Arrange the assembled LaTeX document as an article (see the module docstring)."""

    default_priority = 800  # after Sphinx gathers the citations at the end (BibliographyTransform, 750)
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        if self.env.docname != self.config.root_doc:
            return
        for node in list(self.document.findall(nodes.container)):
            if "cell_input" in node["classes"] or node.get("design_component") == "dropdown":
                node.parent.remove(node)
        self._arrange()

    def _arrange(self) -> None:
        root = next(iter(self.document.findall(nodes.section)))
        # The landing page's title is the document's title (Sphinx prints it only in the title
        # block): its labels point to the start of the text, so a reference to it resolves.
        docname = self.config.root_doc
        labels = "".join(f"\\label{{\\detokenize{{{docname}:{id_}}}}}" for id_ in root["ids"])
        root.insert(1, _raw(f"\\phantomsection{labels}"))
        files: dict[str, addnodes.start_of_file] = {}
        for wrapper in list(root.findall(nodes.compound)):
            if "toctree-wrapper" not in wrapper["classes"]:
                continue
            for child in wrapper.children:
                if isinstance(child, addnodes.start_of_file):
                    files[child["docname"]] = child
            wrapper.parent.remove(wrapper)
        site_map = self.env.external_site_map
        appendix_caption = self.config.manuscript_appendix_part
        bibliography = self.config.manuscript_bibliography_doc
        for part in site_map[site_map.root.docname].subtrees:
            docs = [files.pop(str(item)) for item in part.items if str(item) in files]
            docs = [doc for doc in docs if doc["docname"] != bibliography]  # its entries close the document
            if not docs:
                continue
            root += _raw("\\manuscriptnumbered" if part.numbered else "\\manuscriptunnumbered")
            if part.caption == appendix_caption:
                section = nodes.section("", ids=["manuscript-appendices"])
                section += nodes.title(part.caption, part.caption)
                section.extend(docs)
                root += _raw("\\manuscriptappendices")
                root += section
            else:
                root.extend(docs)
        if files:
            raise RuntimeError(f"pages outside the parts of _toc.yml: {sorted(files)}")
        root += _raw("\\manuscriptunnumbered")


def setup(app):
    app.add_config_value("manuscript_page", dict(DEFAULT_PAGE), "", [dict])
    app.add_config_value("manuscript_appendix_part", "Appendices", "", [str])
    app.add_config_value("manuscript_bibliography_doc", "references", "", [str])
    app.connect("config-inited", _configure)
    app.connect("builder-inited", _title_block)
    app.connect("build-finished", _stamp_latexmkrc)
    app.add_post_transform(ManuscriptStructure)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
