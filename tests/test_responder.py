"""Responder indices: one rule (the recomputed interval), reported p-values checked against the counts, and the
BILAG state count dropped as a responder index. Real values from data/, checked by hand."""

from __future__ import annotations

import math

import pytest

from helpers.chapters import responder as chapter
from helpers.evidence.load import load_evidence
from helpers.evidence.protocol import load_protocol
from helpers.review import responder
from helpers.review.claims import p_below


@pytest.fixture(scope="module")
def ev():
    return load_evidence()


@pytest.fixture(scope="module")
def matrix(ev):
    return responder.index_matrix(ev).set_index(["outcome", "study_id", "timepoint", "population"])


def _pearson_p(e1: int, n1: int, e2: int, n2: int) -> float:
    """Pearson chi-square p of a 2x2 table by hand (1 df: p = erfc(sqrt(chi2 / 2)))."""
    table = [[e1, n1 - e1], [e2, n2 - e2]]
    n = n1 + n2
    cols = [e1 + e2, n - e1 - e2]
    chi2 = sum(
        (table[i][j] - (n1, n2)[i] * cols[j] / n) ** 2 / ((n1, n2)[i] * cols[j] / n) for i in (0, 1) for j in (0, 1)
    )
    return math.erfc(math.sqrt(chi2 / 2))


def _fisher_p(e1: int, n1: int, e2: int, n2: int) -> float:
    """Two-sided Fisher exact p by hand: the hypergeometric tables no more probable than the observed one."""
    m, n = e1 + e2, n1 + n2

    def prob(x: int) -> float:
        return math.comb(n1, x) * math.comb(n2, m - x) / math.comb(n, m)

    observed = prob(e1)
    return sum(prob(x) for x in range(max(0, m - n2), min(n1, m) + 1) if prob(x) <= observed * (1 + 1e-7))


def test_p_below():
    assert p_below("<0.001") is True and p_below("0.052") is False
    assert p_below("0.0168") is True and p_below(None) is None
    with pytest.raises(ValueError):
        p_below("p=0.01")


def test_one_rule_the_recomputed_interval(matrix):
    cat = lambda *k: matrix.loc[k, "category"]  # noqa: E731
    # He 2020 week 12: 16/29 vs 9/30, RR 1.84 (0.97 to 3.48) includes 1 (reported p 0.052)
    assert cat("sri4", "he2020", "week_12", "analysed_efficacy") == responder.INCLUDES
    # He 2020 week 24: 19/29 vs 11/30, RR 1.79 (1.04 to 3.06) excludes 1
    assert cat("sri4", "he2020", "week_24", "analysed_efficacy") == responder.EXCLUDES
    assert cat("sri4", "lupil2", "week_12", "itt") == responder.INCLUDES
    # a per-protocol result is reported once, in words, in the efficacy chapter: no column here
    assert "per_protocol" not in set(matrix.index.get_level_values("population"))
    # Lupus nephritis: the reported p = 0.036 no longer decides; 7/13 vs 2/12 gives RR 3.23 (0.83 to 12.61)
    ln = ("ln_complete_remission", "he2020", "end_of_study", "subgroup")
    assert cat(*ln) == responder.INCLUDES
    assert matrix.loc[ln, "text"] == (
        "RR 3.23 (0.83 to 12.61); reported p 0.036, not reproduced by the counts (Pearson χ² 0.053, Fisher exact 0.097)"
    )
    assert cat("selena_sledai", "he2020", "week_12", "analysed_efficacy") == responder.WITHIN_ONLY
    assert matrix.loc[("bilag", "he2020", "week_12", "analysed_efficacy"), "text"] == (
        "IL-2 p 0.014 vs baseline; placebo p 0.037 vs baseline"
    )
    assert cat("sri_unspecified", "he2016", "week_6", "enrolled") == responder.WITHIN_ONLY
    assert cat("sri4", "proimmun", "trial_period", "analysed_efficacy") == responder.NOT_REPORTED
    key = ("sledai_reduction_any", "proimmun", "trial_period", "analysed_efficacy")
    assert cat(*key) == responder.WITHIN_ONLY
    assert matrix.loc[key, "text"] == "10/12 (83%) responders; p <0.05 vs baseline"
    key = ("clinical_response_unspecified", "proimmun", "trial_period", "analysed_efficacy")
    assert matrix.loc[key, "text"] == "8/12 (67%) responders"
    # the BILAG state count is not a responder index any more
    assert "bilag_a_or_2b" not in set(matrix.index.get_level_values("outcome"))


def test_reported_p_checked_against_the_counts(matrix):
    flags = matrix["p_reproduced"].dropna()
    assert dict(flags.items()) == {
        ("sri4", "he2020", "week_12", "analysed_efficacy"): True,
        ("sri4", "he2020", "week_24", "analysed_efficacy"): True,
        ("ln_complete_remission", "he2020", "end_of_study", "subgroup"): False,
        ("sri4", "lupil2", "week_12", "itt"): False,
    }
    # 0.052 is given by the 'N - 1' chi-square only (0.0524); Pearson gives 0.0504, Fisher 0.067
    assert matrix.loc[("sri4", "he2020", "week_12", "analysed_efficacy"), "p_check"].reproduced_by == ("n_minus_1",)
    assert matrix.loc[("sri4", "he2020", "week_24", "analysed_efficacy"), "p_check"].reproduced_by == ("pearson",)
    assert "not reproduced by the derived counts" in matrix.loc[("sri4", "lupil2", "week_12", "itt"), "text"]


def test_check_reported_p_by_hand():
    check = responder.check_reported_p(7, 13, 2, 12, "0.036")
    values = dict(check.recomputed)
    assert values["pearson"] == pytest.approx(_pearson_p(7, 13, 2, 12), rel=1e-10)
    assert values["pearson"] == pytest.approx(0.05302, abs=5e-5)
    assert values["fisher"] == pytest.approx(_fisher_p(7, 13, 2, 12), rel=1e-10)
    assert values["fisher"] == pytest.approx(0.0968, abs=5e-5)
    assert not check.reproduced
    # a p that the counts give at its precision: 16/29 vs 9/30, Pearson 0.0504 -> '0.050'
    assert responder.check_reported_p(16, 29, 9, 30, "0.050").reproduced_by == ("pearson",)
    # SYNTHETIC: equal arms, every test gives 1 (Yates's too)
    assert set(responder.check_reported_p(10, 20, 10, 20, "1.00").reproduced_by) == {
        "pearson",
        "yates",
        "n_minus_1",
        "fisher",
    }
    assert responder.fmt_p(0.05302) == "0.053" and responder.fmt_p(0.3004) == "0.30"
    assert responder.fmt_p(0.0004) == "<0.001" and responder.fmt_p(float("nan")) == "not defined"


def test_between_arm_effects_and_their_table(ev):
    e = responder.between_arm_effects(ev)
    assert list(e["label"]) == [
        "He 2020: SRI-4, week 12",
        "LUPIL-2: SRI-4, week 12",  # its per-protocol result is reported once, in words, in the efficacy chapter
        "He 2020: SRI-4, week 24",
        "He 2020: Nephritis complete remission",
    ]
    ln = e.set_index("label").loc["He 2020: Nephritis complete remission"]
    assert ln["estimate"] == pytest.approx((7 / 13) / (2 / 12), rel=1e-12)
    se = math.sqrt(1 / 7 - 1 / 13 + 1 / 2 - 1 / 12)
    assert (ln["ci_low"], ln["ci_high"]) == pytest.approx(
        (ln["estimate"] * math.exp(-1.959963984540054 * se), ln["estimate"] * math.exp(1.959963984540054 * se)),
        rel=1e-9,
    )
    t = responder.comparison_table(e).set_index("Trial and index")
    row = t.loc["He 2020: Nephritis complete remission"]
    assert row["RR (95% CI), recomputed"] == "3.23 (0.83 to 12.61)"
    assert row["Interval"] == "includes no difference"
    assert (row["Reported p"], row["Pearson χ² p"], row["Fisher exact p"]) == ("0.036", "0.053", "0.097")
    assert row["Reported p reproduced by"] == "none ‡"
    assert t.loc["He 2020: SRI-4, week 12", "Reported p reproduced by"] == "N − 1 χ²"
    assert t.loc["He 2020: SRI-4, week 24", "Interval"] == "excludes no difference"


def test_the_chapter_text_flags_and_follows_the_interval(ev):
    e = responder.between_arm_effects(ev)
    text = chapter.p_check_text(ev, e).text
    assert "The counts reproduce the reported p of He 2020: SRI-4, week 12 (0.052, by N − 1 χ²)" in text
    assert (
        "- **He 2020: Nephritis complete remission**: 7/13 vs 2/12; reported p 0.036, recomputed Pearson χ² 0.053 "
        "and Fisher exact 0.097; risk ratio 3.23 (95% CI 0.83 to 12.61), whose interval includes no difference."
    ) in text
    assert "- **LUPIL-2: SRI-4, week 12**: 34/50 vs 29/50 (counts derived)" in text
    assert (
        "For He 2020: Nephritis complete remission the reported p and the recomputed interval fall on opposite sides "
        "of 0.05; the chapter follows the interval."
    ) in text
    values = chapter.index_values(ev, responder.index_matrix(ev))
    assert (values["n_excludes"], values["n_p_not_reproduced"]) == ("1", "2")
    assert values["excludes_list"] == "SRI-4 (He 2020, week 24 [efficacy set])"
    assert "separated" not in values["index_pattern"]
    largest = chapter.largest_values(e)
    assert largest["largest_counts"] == "7/13 with IL-2 against 2/12 with placebo"
    assert largest["largest_side"] == "includes"


def test_bilag_state_is_not_a_response(ev):
    """21 of 30 in each arm had a BILAG A or 2 B score at baseline, so 9 of 30 (30%) were free of it before
    treatment; per-visit counts bound resolution among the 21 affected without giving it."""
    protocol = load_protocol()
    assert not [a for a in protocol.analyses if a.outcome in responder.STATE_OUTCOMES]
    assert responder.responder_results(ev).empty
    s = responder.state_counts(ev, "bilag_a_or_2b").set_index(["arm", "timepoint"])
    assert (s.loc[("il2", "baseline"), "events"], s.loc[("il2", "baseline"), "total"]) == (21, 30)
    assert (s.loc[("placebo", "baseline"), "events"], s.loc[("placebo", "baseline"), "total"]) == (21, 30)
    # week 12: 2 (IL-2) and 4 (placebo) still with such a score; each may or may not have had one at baseline
    assert (s.loc[("il2", "week_12"), "resolved_low"], s.loc[("il2", "week_12"), "resolved_high"]) == (19, 21)
    assert (s.loc[("placebo", "week_12"), "resolved_low"], s.loc[("placebo", "week_12"), "resolved_high"]) == (17, 21)
    assert (s.loc[("il2", "week_24"), "resolved_low"], s.loc[("il2", "week_24"), "resolved_high"]) == (20, 21)
    assert s.loc[("il2", "week_12"), "arm_n"] == 29 and s.loc[("il2", "week_12"), "status"] == "derived"
    text = chapter.state_text(ev).text
    assert "Before treatment 9/30 (30%) in the IL-2 arm and 9/30 (30%) in the placebo arm had none" in text
    assert "between 19 and 21 of 21 in the IL-2 arm and between 17 and 21 of 21 in the placebo arm" in text
    assert "rests on 30 patients (derived from its percentages), where the same arm's efficacy set has 29" in text


def test_heatmap_renders_one_cell_per_index_and_column_and_marks_unreproduced_p(ev):
    """Study/time points are the rows (the figure grows downwards as trials are added), indices the columns."""
    m = responder.index_matrix(ev)
    fig = responder.index_heatmap(m)
    from matplotlib.colors import to_hex

    ax = fig.axes[0]
    (mesh,) = ax.collections  # seaborn's heatmap: one mesh, a cell per study/time point and index, row by row
    assert mesh.get_array().size == len(m) == len(responder.INDICES) * m["column"].nunique()
    idx, cols = list(dict.fromkeys(m["index"])), list(dict.fromkeys(m["column"]))
    assert mesh.get_array().shape == (len(cols), len(idx))
    assert [t.get_text().replace("\n", ", ", 1) for t in ax.get_yticklabels()] == cols
    assert [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()] == idx
    order = m.set_index(["index", "column"]).loc[[(i, c) for c in cols for i in idx], "category"]
    colours = [to_hex(c) for c in mesh.to_rgba(mesh.get_array().ravel())]
    assert colours == [to_hex(responder.CATEGORY_STYLE[c][0]) for c in order]
    symbols = [t for t in ax.texts if t.get_text() != responder.NOT_REPRODUCED_MARK]
    assert [t.get_text() for t in symbols] == [responder.CATEGORY_STYLE[c][1] for c in order]
    assert [t.get_position() for t in symbols] == [
        (x + 0.5, y + 0.5) for y in range(len(cols)) for x in range(len(idx))
    ]
    marks = [t.get_position() for t in ax.texts if t.get_text() == responder.NOT_REPRODUCED_MARK]
    flagged = m[m["p_reproduced"].map(lambda v: v is False)]
    assert len(marks) == len(flagged) == 2
    # each mark inside the cell of its (study/time point, index)
    assert sorted((int(x), int(y)) for x, y in marks) == sorted(
        (idx.index(i), cols.index(c)) for i, c in zip(flagged["index"], flagged["column"])
    )
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[-1] == "reported p not reproduced by the counts" and len(labels) == len(responder.CATEGORIES) + 1
    alt = responder.heatmap_alt_text(m)
    assert "He 2020, week 24 (efficacy set): interval excludes no difference: SRI-4;" in alt
    assert "interval includes no difference: Nephritis complete remission (reported p not reproduced" in alt
    table = responder.index_table(m).set_index("Index")
    assert table.loc["Nephritis complete remission", "He 2020, end of study (subgroup)"].startswith("●‡ RR 3.23")


def test_placebo_response_from_the_data(ev):
    pr = responder.placebo_response(ev)
    assert list(zip(pr["label"], pr["population"], pr["primary"])) == [
        ("He 2020", "analysed_efficacy", True),
        ("LUPIL-2", "itt", True),
        ("LUPIL-2", "per_protocol", False),
        ("LUPIL-2", "subgroup", False),
    ]
    assert pr.loc[2, "p_between"] == "0.0168" and pr.loc[3, "percent"] == 100
