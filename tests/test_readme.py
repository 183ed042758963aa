"""The README stays true: its two set-up commands (CI runs the test command), its example
and its links."""
import re

from conftest import ROOT


def _commands():
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text())


def test_readme_gives_exactly_two_setup_commands():
    run, test = _commands()[:2]
    assert run == ("python3 -m venv .venv && . .venv/bin/activate && "
                   "pip install -r requirements.txt && streamlit run app.py")
    assert test.startswith("apt-get update && apt-get install -y ")  # a fresh Debian's lists
    assert "pip install -r requirements-dev.txt" in test and "pytest" in test
    # both cores, a test file per worker: serially the suite took 36 min on one project
    # machine, past CI's 20
    assert "-n 2 --dist loadfile" in test


def test_readme_says_the_python_version_and_how_to_serve_a_class():
    text = (ROOT / "README.md").read_text()
    assert "Python 3.11" in text
    assert "--server.address 0.0.0.0" in text and "exposes" in text


def test_ci_runs_the_readme_test_command():
    test = _commands()[1]
    assert test in (ROOT / ".ci" / "run").read_text().splitlines()


def test_requirements_are_the_four_runtime_dependencies():
    names = [re.split(r"[<>=~ ]", line)[0] for line in
             (ROOT / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert names == ["streamlit", "numpy", "plotly", "pillow"]


def test_readme_core_example_gives_what_it_shows():
    import doctest

    (block,) = re.findall(r"```pycon\n(.+?)```", (ROOT / "README.md").read_text(), re.S)
    test = doctest.DocTestParser().get_doctest(block, {}, "README.md", "README.md", 0)
    assert len(test.examples) == 6
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_readme_links_and_screenshot_exist():
    text = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#]+)\)", text)
    assert {"assets/playground.png", "docs/performance.md", "docs/deployment.md"} <= set(targets)
    for target in targets:
        if "://" not in target:
            assert (ROOT / target).is_file(), target
    assert (ROOT / "assets" / "playground.png").stat().st_size < 200_000
