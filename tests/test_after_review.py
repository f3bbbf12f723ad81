"""The chapter "After the review": later evidence placed by its dates, later figures beside this book's, the update.

Real values: every figure of a later review appears exactly as the evidence dossier records it
(other-meta-analyses.md, from the reviews' abstracts), with its source, and each is set beside an
estimate of this book only on the same scale. Window logic: rows are placed by their dates and the
protocol's windows, and a SYNTHETIC trial published in the update window enters the update analyses
and leaves every review-window result unchanged.
"""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import pandas as pd
import pytest

from helpers.chapters import after_review as chapter
from helpers.evidence import windows
from helpers.evidence.load import load_evidence
from helpers.evidence.protocol import ProtocolError, check_protocol, load_protocol
from helpers.paths import BIB_ENV_VAR
from helpers.review import after_review as later
from helpers.review.analyses import analysis
from helpers.review.results import results_csv, results_table
from tests import synthetic

#: Every figure of the later reviews as the dossier gives it: (review_id, figure) -> (value as shown, evidence code).
DOSSIER_FIGURES = {
    ("su2024iid", "clinical_remission"): ("54.8%", "S53"),
    ("su2024iid", "sri4_response"): ("0.819 (95% CI 0.745 to 0.894)", "S53"),
    ("su2024iid", "selena_sledai_smd"): ("−2.109 (95% CI −3.271 to −0.947); p < .001", "S53"),
    ("su2024iid", "cd4_smd"): ("0.614 (95% CI 0.250 to 0.979); p = 0.001", "S53"),
    ("su2024iid", "treg_smd"): ("1.096 (95% CI 0.544 to 1.649); p < .001", "S53"),
    ("su2024iid", "th17_smd_0_5miu"): ("1.121 (95% CI 0.709 to 1.533); p < .001", "S53"),
    ("su2024iid", "treg_smd_0_5miu"): ("0.655 (95% CI 0.273 to 1.038); p = 0.001", "S53"),
    ("su2024iid", "injection_site_reaction"): ("33.1%", "S53"),
    ("su2024iid", "fever"): ("14.4%", "S53"),
    ("soelistyoningsih2024", "sledai_change"): ("−4.3", "S55"),
    ("soelistyoningsih2024", "sledai_difference"): ("2.91", "S55"),
    ("su2024rt", "th17_smd"): ("0.50 (95% CI 0.33 to 0.67); p < 0.001", "S57"),
    ("su2024rt", "treg_smd"): ("1.13 (95% CI 0.97 to 1.29); p < 0.001", "S57"),
    ("su2024rt", "th17_treg_ratio_smd"): ("−0.54 (95% CI −0.64 to −0.45); p < 0.001", "S57"),
    ("akkur2025", "sri4_range"): ("43% to 65.5% (range across studies)", "S58"),
}


@pytest.fixture(scope="module")
def ev():
    return load_evidence()


@pytest.fixture
def synthetic_data(data_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(BIB_ENV_VAR, str(synthetic.synthetic_bib(data_copy.parent)))
    return data_copy


# ---------------------------------------------------------------------------
# Real values
# ---------------------------------------------------------------------------
def test_every_later_figure_as_in_the_dossier_with_its_source(ev):
    c = later.comparisons(ev)
    shown = {(f["review_id"], f["figure"]): f for f in c["later"]}
    assert set(shown) == set(DOSSIER_FIGURES)
    for key, (value, code) in DOSSIER_FIGURES.items():
        f = shown[key]
        assert later.figure_value(f) == value, key
        assert f["evidence_ref"] == code and f["status"] == "reported" and f["source"], key
    table = later.comparison_table(ev)
    for value, code in DOSSIER_FIGURES.values():
        rows = table[table["Value as reported"] == value]
        assert len(rows) and rows["Source"].str.startswith(code).all(), value


def test_pairs_are_on_the_same_scale_and_the_same_outcome(ev):
    c = later.comparisons(ev)
    matched = c[c["same_scale"]]
    for f, row in zip(matched["later"], matched["book"]):
        assert later.BOOK_SCALES[row["measure"]] == (f["comparison"], f["measure"])
        assert f["outcome"] in row["outcomes"]
        if f["comparison"] == "single_arm":  # beside the IL-2 arms' pooled proportion, never the placebo arms'
            assert pd.notna(row["n_il2"]) and pd.isna(row["n_control"])
    pairs = {(r, f, a) for r, f, a in zip(matched["review_id"], matched["figure"], matched["analysis"])}
    assert pairs == {
        ("su2024iid", "sri4_response", "response_rate_il2_arms_sri4_week_12"),
        ("su2024iid", "injection_site_reaction", "ae_injection_site_reaction_il2_arms"),
    }
    # The book's SELENA-SLEDAI mean differences converted from medians are not results (protocol 1.7): no
    # between-arm SLEDAI difference stands beside Soelistyoningsih 2024's.
    # a pre-post SMD, a range and a quantity this book has not measured have no counterpart
    unmatched = c[~c["same_scale"]]
    assert set(unmatched.loc[unmatched["later"].map(lambda f: f["comparison"] == "pre_post"), "figure"]) >= {
        "selena_sledai_smd",
        "treg_smd",
        "sledai_change",
    }
    assert "sri4_range" in set(unmatched["figure"]) and "clinical_remission" in set(unmatched["figure"])


def test_book_values_come_from_the_results_table_on_the_later_figures_scale(ev):
    results = results_table(ev).set_index(["analysis", "measure", "method", "test"])
    sri = results.loc[("response_rate_il2_arms_sri4_week_12", "PLO", "REML", "z")]
    isr = results.loc[("ae_injection_site_reaction_il2_arms", "PLO", "REML", "z")]
    table = later.comparison_table(ev)
    book = " ".join(table["This book, review window (same scale)"])
    assert f"{sri['estimate']:.3f} (95% CI {sri['ci_low']:.3f} to {sri['ci_high']:.3f})" in book  # as 0.819
    assert f"{100 * isr['estimate']:.1f}% (95% CI {100 * isr['ci_low']:.1f}% to" in book  # as 33.1%


def test_every_difference_is_explained_by_rule(ev):
    c = later.comparisons(ev)
    analyses = [a if isinstance(a, str) else None for a in c["analysis"]]  # None: no counterpart
    by = {(r, f, a): reasons for r, f, a, reasons in zip(c["review_id"], c["figure"], analyses, c["reasons"])}
    sri = " ".join(by[("su2024iid", "sri4_response", "response_rate_il2_arms_sri4_week_12")])
    assert "single-arm proportion is uncontrolled" in sri and "cannot give: SRI-4 at week 12" in sri
    assert "review does not list the studies" in sri and "The review gives no time point (this book's: week 12)" in sri
    smd = " ".join(by[("su2024iid", "selena_sledai_smd", None)])
    assert "from before to after treatment" in smd and "no counterpart" in smd
    md = " ".join(by[("soelistyoningsih2024", "sledai_difference", None)])
    assert md == "This book pools no estimate of SELENA-SLEDAI."
    assert "not SLE alone" in " ".join(by[("su2024rt", "treg_smd", None)])
    assert all(reasons for reasons in c["reasons"])


def test_no_later_between_arm_effect_of_the_primary_outcome(ev):
    results = results_table(ev).set_index(["analysis", "measure", "method", "test"])
    model = load_protocol().raw["models"]["primary"]
    primary = results.loc[("sri4_week12_rct", model["measure"], *model["pooled"])]
    text = chapter.primary_text(ev)
    assert text.startswith("No later review reports a between-arm effect of SRI-4 response")
    assert f"RR {primary['estimate']:.2f} (95% CI {primary['ci_low']:.2f} to {primary['ci_high']:.2f})" in text


def test_later_trials_as_recorded(ev):
    t = later.later_trials(ev).set_index("trial_id")
    assert list(t.index) == ["nct04077684", "he2023congress", "zhou2023"]
    n = t.loc["nct04077684"]
    assert (n["n_planned"], n["n_enrolled"], n["trial_end"], n["results_available"]) == (500, 152, "2024-12-31", "no")
    assert n["evidence_ref"] == "S49; S50; S51; S52"
    h = t.loc["he2023congress"]
    assert (h["n_enrolled"], h["status"], h["derivation"]) == (
        60,
        "derived",
        "n_enrolled = 30 (IL-2) + 30 (placebo) = 60",
    )
    assert not (ev.later_trials["results_available"] == "with_numbers").any()
    table = later.trials_table(ev)
    assert table["Window"].eq("update window (from October 2022)").all()


# ---------------------------------------------------------------------------
# Windows
# ---------------------------------------------------------------------------
PROTOCOL_WINDOWS = {"review": ("2010-01", "2022-09"), "update": ("2022-10", None)}


@pytest.mark.parametrize(
    "date, expected",
    [
        ("2022-09", "review"),
        ("2022-10", "update"),
        ("2022", windows.SPANS),
        ("2023", "update"),
        ("2024-12-31", "update"),
        ("2010", "review"),
        ("2009-12", windows.OUTSIDE),
        ("2009", windows.OUTSIDE),
        (None, None),
        (pd.NA, None),
    ],
)
def test_a_date_falls_in_the_window_holding_every_month_it_may_mean(date, expected):
    assert windows.window_of(date, PROTOCOL_WINDOWS) == expected


def test_rows_are_listed_by_their_dates(ev):
    assert load_protocol().windows == PROTOCOL_WINDOWS
    assert list(later.later_trials(ev, window=None)["trial_id"]) == ["natcommun_phase2b"]  # no date: named apart
    assert set(later.later_figures(ev)["review_id"]) == set(ev.later_reviews["review_id"])
    assert chapter.undated_text(ev).text.startswith("1 report has no date")
    # every included study of the review is dated in the review window
    included = ev.studies[ev.studies["inclusion_status"] == "included"]
    assert included["published"].map(ev.window_of).eq("review").all()
    assert ev.window_of(ev.studies.set_index("study_id").loc["he2023congress", "published"]) == "update"


def test_glued_windows(ev):
    values = chapter.glue_values(ev)
    assert values["after_review_window"] == "January 2010 to September 2022"
    assert values["after_update_window"] == "from October 2022"
    assert values["after_n_figures"] == "15" and values["after_n_trials"] == "3"


def test_the_update_equals_the_review_while_no_update_trial_reports_numbers(ev):
    for u in later.update_analyses(ev):
        assert u.added == () and (u.review.study_ids if u.review else ()) == (u.update.study_ids if u.update else ())
    assert chapter.update_text(ev).startswith("No included study of the update window")


def test_a_synthetic_update_window_trial_enters_only_the_update_analyses(synthetic_data):
    before = results_csv(load_evidence())
    sid = synthetic.add_two_arm_trial(synthetic_data, published="2025-03")
    _later_trial_row(synthetic_data, sid)
    ev = load_evidence()

    # the review window: no result changes, the trial is not among the review's studies
    assert results_csv(ev) == before
    assert sid not in set(ev.included_studies()["study_id"])
    assert sid not in analysis(ev, "sri4_week12_rct").study_ids
    # the update analyses take it in by its date
    primary = next(u for u in later.update_analyses(ev) if u.id == "sri4_week12_rct")
    assert primary.added == (sid,) and primary.update.k == primary.review.k + 1
    assert set(primary.rows["studies"].str.contains("Synthetic C")) == {True}
    table = later.update_table(ev).set_index("Analysis")
    assert table.loc["SRI-4 at week 12, randomised trials", "Added by the update window"] == "Synthetic C"
    assert "Synthetic C" in chapter.update_text(ev)
    # and the later-trials table lists its results as available with numbers
    trials = later.trials_table(ev).set_index("Trial or report")
    assert trials.loc["Synthetic C", "Results available to this book"].startswith("with numbers")


def test_many_synthetic_update_window_trials_change_no_review_result(synthetic_data):
    """SYNTHETIC trials with efficacy, responder-index and safety counts, some dose-ranging, dated in the update
    window: every review-window result, total, claim, GRADE row, scorecard verdict and robustness check stays as it
    was; the update analyses take them all in."""
    from helpers.review.claims import failures
    from helpers.review.grade import summary_of_findings
    from helpers.review.reconciliation import book_totals
    from helpers.review.robustness import robustness_table
    from helpers.review.scorecard import scorecard, scorecard_table
    from tests import synthetic_many

    def review_results(ev):
        return (
            results_csv(ev),
            book_totals(ev),
            failures(ev),
            repr(summary_of_findings(ev)),
            scorecard_table(scorecard(ev)).to_csv(),
            robustness_table(ev).to_csv(),
        )

    real = load_evidence()
    before = review_results(real)
    trials = synthetic_many.add_trials(synthetic_data, n=4)
    path = synthetic_data / "studies.csv"
    table = pd.read_csv(path, dtype="string", keep_default_na=False)
    table.loc[table["study_id"].isin([t.study_id for t in trials]), "published"] = "2024-05"
    table.to_csv(path, index=False)
    ev = load_evidence()
    assert review_results(ev) == before
    for u in later.update_analyses(ev):
        assert set(u.added) == {t.study_id for t in trials}, u.id


def test_the_same_synthetic_trial_dated_in_the_review_window_enters_the_review(synthetic_data):
    sid = synthetic.add_two_arm_trial(synthetic_data)  # published in the review window
    ev = load_evidence()
    assert sid in analysis(ev, "sri4_week12_rct").study_ids
    assert all(u.added == () for u in later.update_analyses(ev))


def test_the_chapter_shows_a_later_trial_added_as_data_only(synthetic_data, tmp_path):
    """The chapter notebook, unedited, run on data with a SYNTHETIC update-window trial: it lists the trial with
    numbers and the update analysis takes it in; the review's estimate it shows beside it is unchanged."""
    import shutil

    import nbformat

    from helpers.notebooks import execute_in_place
    from helpers.paths import ROOT

    sid = synthetic.add_two_arm_trial(synthetic_data, published="2025-03")
    _later_trial_row(synthetic_data, sid)
    path = tmp_path / "after_review.ipynb"
    shutil.copy(ROOT / "chapters" / "after_review.ipynb", path)
    execute_in_place(path)
    glued = "\n".join(
        str(value)
        for cell in nbformat.read(path, as_version=4).cells
        for output in cell.get("outputs", [])
        for key, value in output.get("data", {}).items()
        if key.endswith("text/markdown") or key.endswith("text/plain")
    )
    assert "SRI-4 at week 12, randomised trials: the update window adds Synthetic C." in glued
    assert "with numbers: 1 (Synthetic C)" in glued
    assert (
        "| He 2020 and LUPIL-2 | RR 1.33 (95% CI 1.00 to 1.76), fixed effect (Mantel-Haenszel) | Synthetic C |" in glued
    )


def _later_trial_row(folder: Path, sid: str) -> None:
    """The later_trials.csv row an author would add for the SYNTHETIC trial's results."""
    with (folder / "later_trials.csv").open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    row = {
        "trial_id": sid,
        "label": "Synthetic C",
        "study_id": sid,
        "registration": "SYNTHETIC-0001",
        "design": "SYNTHETIC test fixture",
        "arms": "SYNTHETIC: IL-2 or placebo",
        "n_planned": "80",
        "n_enrolled": "80",
        "trial_status": "SYNTHETIC: completed",
        "results_available": "with_numbers",
        "finding": "SYNTHETIC: SRI-4 at week 12, 22/40 against 16/40",
        "published": "2025-03",
        "trial_end": "2024-12",
        **synthetic.PROVENANCE,
    }
    synthetic._append(folder / "later_trials.csv", [{k: row.get(k, "") for k in header}])


def test_the_protocol_names_declared_update_analyses_and_the_review_window():
    raw = copy.deepcopy(load_protocol().raw)
    raw["update"]["analyses"] = ["sri4_week12_rct", "no_such_analysis"]
    with pytest.raises(ProtocolError, match=r"update.analyses\[1\]: found 'no_such_analysis'"):
        check_protocol(raw)
    raw = copy.deepcopy(load_protocol().raw)
    raw["update"]["windows"] = ["update"]
    with pytest.raises(ProtocolError, match="expected the review window among them"):
        check_protocol(raw)
    raw = copy.deepcopy(load_protocol().raw)
    raw["update"]["windows"] = ["later"]
    with pytest.raises(ProtocolError, match=r"update.windows\[0\]: found 'later'"):
        check_protocol(raw)


def test_the_review_results_table_reads_the_review_window_only(ev):
    """A view through both windows is a different evidence object; the default view is the review's."""
    assert ev.analysis_windows == ("review",)
    both = ev.with_windows("review", "update")
    assert list(both.included_studies()["study_id"]) == list(ev.included_studies()["study_id"])
    with pytest.raises(ValueError, match="expected some of review, update"):
        ev.with_windows("later")
