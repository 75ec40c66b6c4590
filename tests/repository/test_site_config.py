"""Fast static checks of the book's website configuration (no build, no browser).

The strict build (`jupyter-book build . -W -n`) and scripts/check_site.py check the rendered
site; these tests catch the common mistakes earlier: a page missing from the table of contents,
a citation key that is not in references.bib, the repository URL spelled in two places.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))

REQUIRED_KEYS = {
    "kingma2014auto",
    "rezende2014stochastic",
    "higgins2017beta",
    "burda2016importance",
    "bowman2016generating",
    "alemi2018fixing",
    "jang2017categorical",
    "rezende2015variational",
    "dayan1995helmholtz",
}
CHAPTERS = [
    "book/01_elbo",
    "book/02_kl_closed_form",
    "book/03_reparameterization",
    "book/04_beta",
    "book/05_likelihoods",
    "book/06_conv_vae",
    "book/07_likelihood",
]
CITE_ROLE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
GITHUB_REPO = re.compile(r"github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?(?=[^\w.-]|$)")


def toc_files() -> list[str]:
    files = [TOC["root"]]
    for part in TOC.get("parts", [{"chapters": TOC.get("chapters", [])}]):
        files += [entry["file"] for entry in part["chapters"]]
    return files


def source_path(name: str) -> Path | None:
    for suffix in (".md", ".ipynb"):
        path = ROOT / f"{name}{suffix}"
        if path.exists():
            return path
    return None


def markdown_sources() -> dict[Path, str]:
    """The markdown text of every page in the table of contents (markdown cells of notebooks)."""
    texts = {}
    for name in toc_files():
        path = source_path(name)
        if path is None:
            continue
        if path.suffix == ".ipynb":
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            texts[path] = "\n".join(
                "".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown"
            )
        else:
            texts[path] = path.read_text(encoding="utf-8")
    return texts


def bib_keys() -> list[str]:
    text = (BOOK / "references.bib").read_text(encoding="utf-8")
    return re.findall(r"^@\w+\{([^,\s]+),", text, flags=re.MULTILINE)


def test_toc_lists_the_contract_pages_in_order():
    assert TOC["format"] == "jb-book"
    assert toc_files() == ["book/intro", *CHAPTERS, "book/api", "book/bibliography"]


@pytest.mark.parametrize("name", toc_files())
def test_every_toc_entry_exists(name):
    assert source_path(name) is not None, f"{name}.md or {name}.ipynb is listed in _toc.yml"


def test_references_define_the_required_keys_once():
    keys = bib_keys()
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    assert not duplicates, f"duplicate keys in references.bib: {duplicates}"
    missing = sorted(REQUIRED_KEYS - set(keys))
    assert not missing, f"missing from references.bib: {missing}"


def test_every_cited_key_is_in_references():
    known = set(bib_keys())
    unknown = []
    for path, text in markdown_sources().items():
        for group in CITE_ROLE.findall(text):
            for key in (k.strip() for k in group.split(",")):
                if key not in known:
                    unknown.append(f"{path.relative_to(ROOT)}: {key}")
    assert not unknown, f"cited but not in book/references.bib: {unknown}"


def test_repository_url_is_set_once_and_used_consistently():
    config_text = (ROOT / "_config.yml").read_text(encoding="utf-8")
    url = CONFIG["repository"]["url"]
    assert url.startswith("https://github.com/")
    assert config_text.count(url) == 1, "keep the repository URL in one place in _config.yml"
    repo = url.removeprefix("https://github.com/")
    # Pages that name a GitHub repository (the Colab/Kaggle install cell, the intro) name ours.
    for path in [BOOK / "intro.md", *sorted(BOOK.glob("*.ipynb"))]:
        for named in GITHUB_REPO.findall(path.read_text(encoding="utf-8")):
            assert named == repo, f"{path.relative_to(ROOT)} names github.com/{named}"


def test_launch_buttons_and_download():
    launch = CONFIG["launch_buttons"]
    assert launch["colab_url"] == "https://colab.research.google.com"
    assert launch["binderhub_url"] == "https://mybinder.org"
    assert CONFIG["repository"]["branch"] == "main"
    assert CONFIG["html"]["use_repository_button"] is True
    assert CONFIG["html"]["use_issues_button"] is True
    theme = CONFIG["sphinx"]["config"]["html_theme_options"]
    assert theme["use_download_button"] is True
    # html_theme_options in sphinx.config must merge with (not replace) the derived options.
    assert CONFIG["sphinx"]["recursive_update"] is True


def test_build_settings():
    assert CONFIG["only_build_toc_files"] is True
    assert CONFIG["execute"]["execute_notebooks"] == "off"
    for pattern in (".venv", "_build", "node_modules", "README.md"):
        assert pattern in CONFIG["exclude_patterns"]
    for bib in CONFIG["bibtex_bibfiles"]:
        assert (ROOT / bib).is_file()
    extensions = CONFIG["sphinx"]["extra_extensions"]
    assert {"sphinx.ext.autodoc", "sphinx.ext.napoleon"} <= set(extensions)


def test_mathjax_is_served_from_the_book():
    sphinx = CONFIG["sphinx"]["config"]
    path = sphinx["mathjax_path"]
    assert "://" not in path, "MathJax must be local (scripts/fetch_mathjax.sh), not a CDN"
    assert path.startswith("mathjax/")
    assert "book/_static" in sphinx["html_static_path"]
    fetch = (ROOT / "scripts" / "fetch_mathjax.sh").read_text(encoding="utf-8")
    assert Path(path).name in fetch, "fetch_mathjax.sh must copy the file mathjax_path names"
    assert sphinx["mathjax3_config"]["loader"]["paths"]["fonts"] == "[mathjax]/fonts"
    gitignore = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "book/_static/mathjax/" in gitignore


def test_api_page_documents_every_public_module():
    api = (BOOK / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"automodule:: (vaelib\.\w+)", api))
    modules = {
        f"vaelib.{path.stem}"
        for path in (ROOT / "vaelib").glob("*.py")
        if not path.stem.startswith("_")
    } | {f"vaelib.{path.parent.name}" for path in (ROOT / "vaelib").glob("*/__init__.py")}
    assert modules <= documented, f"not in book/api.md: {sorted(modules - documented)}"
    assert documented <= modules, f"book/api.md names missing modules: {documented - modules}"


def test_local_extensions_exist():
    for name, folder in CONFIG["sphinx"].get("local_extensions", {}).items():
        assert (ROOT / folder / f"{name}.py").is_file()


def test_binder_installs_the_package_from_pyproject():
    # The Binder launch button builds binder/: Python from runtime.txt, then `pip install .`,
    # so the dependencies come from pyproject.toml and nowhere else.
    runtime = (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"python-3\.\d+", runtime)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    minimum = re.search(r'requires-python\s*=\s*">=3\.(\d+)"', pyproject)
    assert minimum and int(runtime.split(".")[1]) >= int(minimum.group(1))
    post_build = (ROOT / "binder" / "postBuild").read_text(encoding="utf-8")
    assert "pip install --no-cache-dir ." in post_build
