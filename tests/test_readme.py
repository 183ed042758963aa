"""The README's two set-up commands stay true, and CI runs the test command."""
import re

from conftest import ROOT


def _commands():
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text())


def test_readme_gives_exactly_two_setup_commands():
    run, test = _commands()[:2]
    assert run == "pip install -r requirements.txt && streamlit run app.py"
    assert "pip install -r requirements-dev.txt" in test and "pytest" in test


def test_ci_runs_the_readme_test_command():
    test = _commands()[1]
    assert test in (ROOT / ".ci" / "run").read_text().splitlines()


def test_requirements_are_the_four_runtime_dependencies():
    names = [re.split(r"[<>=~ ]", line)[0] for line in
             (ROOT / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert names == ["streamlit", "numpy", "plotly", "pillow"]


def test_readme_python_examples_run_and_match_their_comments():
    import numpy as np

    blocks = re.findall(r"```python\n(.+?)\n```", (ROOT / "README.md").read_text(), re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    from pooling_core import pool2d  # the SAME average line: real cells only, as TensorFlow
    x = np.array([[1, 3, 2, 1], [4, 8, 5, 0], [7, 1, 9, 2], [0, 3, 4, 6]])
    # n=4, k=3, s=2: out 2, total (2 - 1)*2 + 3 - 4 = 1 after: the last window reads
    # x[2:4, 2:4] = 9, 2, 4, 6 -> 21 / 4
    assert pool2d(x, 3, 2, padding="same", mode="avg")[1, 1] == 21 / 4
