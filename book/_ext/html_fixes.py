"""Sphinx extension: drop duplicate script tags from the HTML pages.

sphinx-thebe (loaded by Jupyter Book by default, unused here) adds its inline
configuration script twice with Sphinx 7, so every page raised the browser error
"Identifier 'THEBE_JS_URL' has already been declared" (tests/test_browser.py).
"""

from __future__ import annotations


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


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=100)  # before handlers that return a template
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
