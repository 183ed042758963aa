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
