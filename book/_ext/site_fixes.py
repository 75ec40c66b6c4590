"""Sphinx extension with the small fixes the vae-book website needs (loaded from _config.yml).

- MathJax is served from the book (scripts/fetch_mathjax.sh). A build without it would produce
  pages whose equations never render; warn (an error under -W) instead.
- The API reference documents every object in its module (``vaelib.metrics.elbo``), while the
  chapters naturally write the name they import (``{func}`vaelib.elbo` ``). A reference to a
  name that ``vaelib`` re-exports is resolved to the object's home module.
- Jupyter Book 1.0.4 on Sphinx 7.4 writes sphinx-thebe's inline configuration script twice on
  every page (once registered with filename None, once with ""), so the browser throws
  "SyntaxError: Identifier 'THEBE_JS_URL' has already been declared". We drop the second copy of
  any script that is identical to an earlier one.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)


def check_local_mathjax(app) -> None:
    path = app.config.mathjax_path
    if not path or "://" in path or path.startswith("/"):
        return
    folders = [Path(app.confdir, folder) for folder in app.config.html_static_path]
    if not any((folder / path).is_file() for folder in folders):
        ours = [f"{folder}/{path}" for folder in app.config.html_static_path if folder[0] != "/"]
        logger.warning(
            "MathJax is missing (%s): run scripts/fetch_mathjax.sh (make book does).",
            " or ".join(ours) or path,
        )


def _script_key(script) -> tuple[str, str]:
    # Sphinx 7.4 stores scripts as _JavaScript(filename, priority, **attributes); older versions
    # as str subclasses. A script body lives in attributes["body"].
    filename = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {}) or {}
    return str(filename), json.dumps(attributes, sort_keys=True, default=str)


def dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, str]] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def resolve_reexported(app, env, node, contnode):
    """Resolve ``vaelib.NAME[.ATTR]`` to ``MODULE.NAME[.ATTR]`` when vaelib re-exports NAME."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("vaelib."):
        return None
    name, _, rest = target[len("vaelib.") :].partition(".")
    try:
        obj = getattr(importlib.import_module("vaelib"), name)
    except (ImportError, AttributeError):
        return None
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not module or not qualname or module == "vaelib":
        return None
    canonical = f"{module}.{qualname}" + (f".{rest}" if rest else "")
    if canonical == target:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(
        env, node.get("refdoc"), app.builder, node["reftype"], canonical, node, contnode
    )


def setup(app):
    # Late priority: after every extension has added its scripts to the page context.
    app.connect("html-page-context", dedupe_scripts, priority=900)
    app.connect("missing-reference", resolve_reexported)
    app.connect("builder-inited", check_local_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
