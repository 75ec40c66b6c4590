"""The README's "vaelib on your own data" examples run as written (reduced budget)."""

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

README = Path(__file__).resolve().parents[2] / "README.md"


def own_data_examples():
    text = README.read_text(encoding="utf-8")
    section = text.split("## vaelib on your own data", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_section_has_the_two_examples():
    examples = own_data_examples()
    assert len(examples) == 2
    assert "make_tabular" in examples[0] and "build_conv_vae" in examples[1]


@pytest.mark.parametrize("index", [0, 1], ids=["tabular", "rgb-images"])
def test_example_runs(index, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VAELIB_QUICK", "1")
    monkeypatch.chdir(tmp_path)
    exec(compile(own_data_examples()[index], f"README example {index}", "exec"), {})
    if index == 0:
        printed = capsys.readouterr().out
        share = int(re.search(r"(\d+)% of the anomalies", printed).group(1))
        assert share >= 50, printed  # the score does flag anomalies, even reduced
    else:
        for name in ("reconstructions", "traversal", "interpolation"):
            assert (tmp_path / f"shapes_{name}.png").stat().st_size > 1000
