"""The chapters themselves follow the data: SYNTHETIC trials added as rows, the notebooks re-executed unedited.

Each chapter notebook is run (as the build runs it) on a copy of data/ with a third two-arm trial and a
three-dose trial added (tests/synthetic.py). The chapters whose sentences still hold show the new trials
in their glued text; a chapter whose sentences the new data contradict stops with the claims by name,
which is what fails the build. Nothing here touches data/ or the built book.
"""

from __future__ import annotations

import shutil

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from helpers.notebooks import execute_in_place, glue_keys_defined, glue_keys_used
from helpers.paths import BIB_ENV_VAR, DATA_ENV_VAR, ROOT
from tests import synthetic
from tests.book_builds import copy_data

CHAPTERS = ("efficacy", "safety", "responder_indices", "treg", "prisma", "risk_of_bias")


def _glued_text(nb: nbformat.NotebookNode) -> str:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            for key, value in o.get("data", {}).items():
                if key.endswith("text/plain") or key.endswith("text/markdown"):
                    out.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(out)


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict[str, nbformat.NotebookNode | str]:
    """Every chapter run on the real data plus both SYNTHETIC trials: the executed notebook, or the error text."""
    base = tmp_path_factory.mktemp("synthetic_chapters")
    data = copy_data(base / "data")
    synthetic.add_two_arm_trial(data)
    synthetic.add_dose_ranging_trial(data)
    bib = synthetic.synthetic_bib(base)
    patch = pytest.MonkeyPatch()
    patch.setenv(DATA_ENV_VAR, str(data))
    patch.setenv(BIB_ENV_VAR, str(bib))

    def run(name: str):
        path = base / f"{name}.ipynb"
        shutil.copy(ROOT / "chapters" / f"{name}.ipynb", path)
        try:
            execute_in_place(path)
        except CellExecutionError as err:
            return name, str(err)
        return name, nbformat.read(path, as_version=4)

    try:
        return dict(run(name) for name in CHAPTERS)
    finally:
        patch.undo()


def test_efficacy_takes_in_both_trials(executed):
    text = _glued_text(executed["efficacy"])
    assert "All four trials chose the SRI-4 at week 12 as their primary endpoint and none met it." in text
    assert "in Synthetic C (intention to treat), 22/40 (55.0%) and 16/40 (40.0%)" in text
    assert "52/114 (45.6%), three IL-2 dose arms combined, and 12/38 (31.6%)" in text
    assert "**What four trials allow.** As a sensitivity analysis, the random-effects risk ratio, with the" in text
    assert (
        "With four trials, the Hartung-Knapp interval {cite:p}`hartung2001,knapp2003` uses a t distribution on 3 "
        in text
    )
    assert "the Mantel-Haenszel {cite:p}`mantel1959` common-effect risk ratio of the four trials, is " in text
    assert "Leaving out each of the four trials in turn" in text and "| Trial left out |" in text
    assert "Leave-one-out needs at least" not in text
    assert "not estimable: it needs at least three trials" not in text  # a prediction interval from k = 3


def test_safety_and_responder_chapters_run_on_the_new_data(executed):
    for name in ("safety", "responder_indices", "treg"):
        assert isinstance(executed[name], nbformat.NotebookNode), executed[name]
    responder = _glued_text(executed["responder_indices"])
    assert "Synthetic C, week 12 (ITT)" in responder and "Synthetic dose-ranging, week 12 (ITT)" in responder
    assert "12/38 (31.6%) in Synthetic dose-ranging" in responder  # its placebo arm, once


def test_chapters_whose_sentences_the_trials_falsify_stop_by_name(executed):
    """Two more studies than the review: 'the placebo totals agree' and 'one study fewer' no longer hold."""
    prisma = executed["prisma"]
    assert isinstance(prisma, str), "the PRISMA chapter should have stopped"
    assert "ClaimFailed" in prisma
    assert "placebo_totals_agree" in prisma and "il2_short_one_study_fewer" in prisma
    assert "the review's placebo total differs by -78" in prisma  # 40 + 38 placebo patients more than the review
    rob = executed["risk_of_bias"]  # SYNTHETIC ratings are all 'unable to determine': the RCTs no longer lead
    assert isinstance(rob, str) and "rob_rcts_gain_design_points" in rob


def test_every_glue_key_a_chapter_pastes_is_defined(executed):
    """What a strict build checks (an undefined glue key fails it), on the data with the SYNTHETIC trials."""
    for name, nb in executed.items():
        if isinstance(nb, nbformat.NotebookNode):
            assert glue_keys_used(nb) <= glue_keys_defined(nb), (name, glue_keys_used(nb) - glue_keys_defined(nb))


@pytest.mark.parametrize(
    "excluded, expected",
    [
        (
            ["lupil2"],
            (
                "He 2020 chose the SRI-4 at week 12 as its primary endpoint and did not meet it.",
                "With one trial nothing is pooled: the protocol's primary estimate is the trial's own risk ratio",
                "Leave-one-out needs at least three trials under the protocol; with one trial it is not run",
            ),
        ),
        (["he2020", "lupil2"], ("No randomised trial reports the SRI-4 at week 12.",)),
    ],
    ids=["one trial", "no trial"],
)
def test_efficacy_chapter_with_one_trial_and_with_none(tmp_path, monkeypatch, excluded, expected):
    """The protocol excludes trials (a real protocol would say why); the chapter still runs and pastes every key."""
    text = (ROOT / "protocol.yml").read_text(encoding="utf-8")
    rows = "".join(f"\n    - {{study_id: {s}, reason: test of a smaller evidence base}}" for s in excluded)
    edited = text.replace("  exclusions: []", "  exclusions:" + rows)
    assert edited != text
    (tmp_path / "protocol.yml").write_text(edited, encoding="utf-8")
    monkeypatch.setenv("IL2_PROTOCOL", str(tmp_path / "protocol.yml"))
    path = tmp_path / "efficacy.ipynb"
    shutil.copy(ROOT / "chapters" / "efficacy.ipynb", path)
    execute_in_place(path)
    nb = nbformat.read(path, as_version=4)
    assert glue_keys_used(nb) <= glue_keys_defined(nb), glue_keys_used(nb) - glue_keys_defined(nb)
    text = _glued_text(nb)
    assert all(e in text for e in expected), [e for e in expected if e not in text]


def test_glued_prose_with_more_trials_has_no_template_artefacts(executed):
    """The generators' other branches (more trials, dose arms, several events) read as prose too: every value
    a chapter glues on the SYNTHETIC data passes the checks of tests/test_prose_artefacts.py."""
    from tests.test_prose_artefacts import artefacts, rendered

    problems = []
    for name, nb in executed.items():
        if isinstance(nb, str):
            continue  # a chapter stopped by its claims: test_chapters_whose_sentences_the_trials_falsify_stop_by_name covers it
        for cell in nb.cells:
            for o in cell.get("outputs", []):
                for key, value in o.get("data", {}).items():
                    if key.endswith("text/markdown") or (
                        key.endswith("text/plain") and key.replace("text/plain", "text/markdown") not in o["data"]
                    ):
                        text = value if isinstance(value, str) else "".join(value)
                        problems += [f"{name}: {p}" for p in artefacts(rendered(text))]
    assert problems == [], "\n".join(problems)
