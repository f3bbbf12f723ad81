"""Generated prose reads as prose, and the bibliography lists the cited works only, every named method cited.

The text is read from the stored notebook outputs (``tests/book_text.py``): every glued value in
place in its page's markdown, as the reader gets it, so a template artefact in any generator ('1
cycles', a doubled parenthesis, 'only in none', a bare 'no.' answering a question) fails here by page
and excerpt. Citation roles are read in the shape the book's author-year style renders them, in square
brackets ('[He et al., 2020]', 'Luo et al. [2018]'). The raw evidence tables of the data appendix
are the data verbatim, checked by validation, and are left out.
"""

from __future__ import annotations

import re

import pybtex.database
import pytest

from helpers.paths import book_dir
from tests.book_text import ROLE, book_pages, cited_keys

#: Glued tables that print a data file as it is (``chapters/appendix_data.ipynb``).
RAW_DATA_TABLES = {
    "data_studies",
    "data_arms",
    "data_outcomes",
    "data_outcome_definitions",
    "data_search",
    "data_prisma",
    "data_review_reported",
    "data_downs_black_items",
    "data_risk_of_bias",
}

PLURAL_NOUNS = (
    "analyses|arms|cells|cycles|days|degrees|doses|entries|events|items|months|patients|points|ratings|records|"
    "rows|sources|studies|trials|weeks"
)
#: Pattern -> what it catches. Each applies to prose and to generated tables.
ARTEFACTS = {
    rf"(?<![\d.,−-])\b1 (?:{PLURAL_NOUNS})\b": "the number 1 with a plural noun",
    r"\)\)": "a doubled closing parenthesis",
    r"\) \(": "two parentheticals in a row",
    r"\bin none\b": "'in none' where the list is empty",
    r"\? (?:no|yes)\.": "a question answered by a bare yes or no",
    r"\bis 0(?![\d.,]\d|\d)": "'is 0' where a word would do",
    r":\s*none\.": "'none.' after a colon",
    r"<NA>": "a pandas missing value",
    r"\bnan\b|\bNaN\b": "a float missing value",
    r"\[Authors not available": "a placeholder author",
    r"\[Title not available": "a placeholder title",
    r"\(percent\)": "a unit written as a parenthetical",
}


def rendered(text: str) -> str:
    """Roles in the shape the reader sees: a parenthetical citation is '[C]', a textual one 'A [C]' (the
    author-year style of book/_config.yml), a cross-reference 'X'."""

    def role(m: re.Match) -> str:
        return {"cite:p": "[C]", "cite:t": "A [C]"}.get(m.group(1), "X")

    return ROLE.sub(role, text)


def artefacts(text: str) -> list[str]:
    """Every artefact in a text, as 'what: excerpt'."""
    found = []
    for pattern, what in ARTEFACTS.items():
        for m in re.finditer(pattern, text):
            found.append(f"{what}: ...{text[max(0, m.start() - 60) : m.end() + 30]}...")
    return found


def nested_parentheses(text: str) -> list[str]:
    """Parentheses opened inside parentheses, in running prose (not in table rows or directive lines)."""
    found = []
    for line in text.splitlines():
        if line.startswith(("|", ":", "```")) or re.fullmatch(r"\([\w-]+\)=", line.strip()):
            continue
        depth = 0
        for i, ch in enumerate(line):
            if ch == "(":
                depth += 1
                if depth == 2:
                    found.append(f"nested parentheses: ...{line[max(0, i - 60) : i + 40]}...")
            elif ch == ")":
                depth = max(0, depth - 1)
    return found


def book_artefacts() -> list[str]:
    problems = []
    for page in book_pages():
        prose = rendered(page.text)
        problems += [f"{page.name}: {p}" for p in artefacts(prose) + nested_parentheses(prose)]
        for key, table in page.tables.items():
            if key not in RAW_DATA_TABLES:
                problems += [f"{page.name} [{key}]: {p}" for p in artefacts(rendered(table))]
    return problems


# ---------------------------------------------------------------------------
# The detectors catch what they should and nothing else (SYNTHETIC sentences)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "aldesleukin 1.5 MIU, daily, 1 cycles (5 days)",
        "the response rate is 73 (95% CI 48 to 89) (percent)",
        "at the same recorded time point only in none.",
        "Are the review's exact search strings known? no. The abstracts",
        "and the number rated good or better is 0.",
        "Included studies whose size the sources consulted do not give: none.",
        "SRI-4 (He 2020, week 24 (efficacy set)); next",
        "a value of <NA> here",
        "a value of nan here",
        "([Authors not available in the consulted sources], 2019)",
    ],
)
def test_artefacts_are_caught(text):
    assert artefacts(rendered(text)) or nested_parentheses(rendered(text))


@pytest.mark.parametrize(
    "text",
    [
        "aldesleukin 1.5 MIU, daily, 1 cycle (5 days); 3 cycles (12 weeks)",
        "the response rate on IL-2 is 73% (95% CI 48 to 89%)",
        "The between-arm p-value reported is 0.036, and 21 trials, 0.1 points and 11 studies.",
        "none of them reports both at the same recorded time point.",
        "The REML risk ratio, with the variance estimated by REML {cite:p}`harville1977`, is 1.34.",
        "the methods of {cite:t}`luo2018` and {cite:t}`wan2014`",
        "The refits are in {numref}`tbl-sri4-loo`.",
    ],
)
def test_prose_passes(text):
    assert artefacts(rendered(text)) == [] and nested_parentheses(rendered(text)) == []


def test_nested_parentheses_are_caught():
    assert nested_parentheses("a per-protocol population (20/24 (83.3%) on IL-2) here")
    assert nested_parentheses("the estimate (1.33 (95% CI 1.00 to 1.76)) here")


# ---------------------------------------------------------------------------
# The book
# ---------------------------------------------------------------------------
def test_generated_prose_has_no_template_artefacts():
    """Every page's prose and generated tables, from the outputs stored in chapters/*.ipynb."""
    problems = book_artefacts()
    assert problems == [], "\n".join(problems)


def test_every_page_is_read():
    names = {p.name for p in book_pages()}
    assert {"chapters/efficacy.ipynb", "chapters/declarations.ipynb", "chapters/intro.ipynb"} <= names
    assert all(p.prose for p in book_pages())


# ---------------------------------------------------------------------------
# Bibliography: cited works only, every cited key an entry, every named method cited
# ---------------------------------------------------------------------------
#: A named method -> the bibliography keys, one of which its page must cite.
METHOD_CITATIONS = {
    "Mantel-Haenszel": {"mantel1959"},
    "DerSimonian": {"dersimonian1986"},
    "REML": {"harville1977", "viechtbauer2010"},
    "restricted maximum likelihood": {"harville1977"},
    "Hartung-Knapp": {"hartung2001", "knapp2003"},
    "Freeman-Tukey": {"freeman1950", "miller1978"},
    "Clopper-Pearson": {"clopper1934"},
    "Wilson": {"wilson1927"},
    "Egger": {"egger1997"},
    "Newcombe": {"newcombe1998"},
    "Fisher's exact": {"fisher1922"},
    "Peto": {"yusuf1985"},
    "Luo": {"luo2018"},
    "Wan ": {"wan2014"},
    "GRADE": {"guyatt2011grade1", "guyatt2011imprecision", "schunemann2023handbook"},
    "RoB 2": {"sterne2019"},
    "Downs and Black": {"downs1998"},
    "Yates": {"yates1934"},
    "Pearson's chi-square": {"pearson1900"},
    "N − 1 chi-square": {"campbell2007"},
    "PRISMA 2020": {"page2021prisma"},
    "Cochrane Handbook": {"higgins2023ch23", "schunemann2023handbook"},
}


def page_citations(text: str) -> set[str]:
    return {k.strip() for role, t in ROLE.findall(text) if role.startswith("cite") for k in t.split(",")}


def uncited_methods() -> list[str]:
    missing = []
    for page in book_pages():
        prose = "\n".join(line for line in page.text.splitlines() if not line.startswith("|"))
        cited = page_citations(page.text) | {k for t in page.tables.values() for k in page_citations(t)}
        for method, keys in METHOD_CITATIONS.items():
            if method in prose and not keys & cited:
                missing.append(f"{page.name}: names {method.strip()!r} but cites none of {sorted(keys)}")
    return missing


def test_every_named_method_is_cited_on_its_page():
    missing = uncited_methods()
    assert missing == [], "\n".join(missing)


def test_a_named_method_without_its_citation_is_caught():
    text = "Pooled with the Mantel-Haenszel method, the risk ratio is 1.33."
    assert "Mantel-Haenszel" in text and not METHOD_CITATIONS["Mantel-Haenszel"] & page_citations(text)


def bibliography() -> pybtex.database.BibliographyData:
    return pybtex.database.parse_file(book_dir() / "references.bib")


def test_bibliography_lists_cited_works_only():
    text = (book_dir() / "references.md").read_text(encoding="utf-8")
    assert "```{bibliography}" in text
    assert ":all:" not in text and ":notcited:" not in text and ":filter:" not in text


def test_every_cited_key_is_an_entry():
    missing = sorted(cited_keys() - set(bibliography().entries))
    assert missing == [], f"cited but not in book/references.bib: {missing}"


def test_every_method_key_is_an_entry_where_cited():
    entries = set(bibliography().entries)
    used = {k for keys in METHOD_CITATIONS.values() for k in keys} & cited_keys()
    assert used <= entries


def test_cited_entries_have_authors_and_titles():
    """No cited entry prints a placeholder author or title: an entry whose authors no consulted source shows
    takes a corporate author instead (book/references.bib, header comment and the entry's note)."""
    bib = bibliography()
    placeholders = set()
    for key in cited_keys() & set(bib.entries):
        entry = bib.entries[key]
        authors = " ".join(str(p) for p in entry.persons.get("author", []))
        if "not available" in authors or "not available" in entry.fields.get("title", ""):
            placeholders.add(key)
    assert placeholders == set(), f"cited entries with a placeholder author or title: {sorted(placeholders)}"


def test_data_sources_are_cited():
    """Every source key of the evidence tables is cited (the declarations page lists them), so it is in the
    bibliography."""
    from helpers.chapters.declarations import data_source_keys
    from helpers.evidence.load import load_evidence

    assert set(data_source_keys(load_evidence())) <= cited_keys()


def cited_captions() -> list[str]:
    """Table and figure captions that cite: XeLaTeX stops on a citation inside a caption (the PDF)."""
    found = []
    for page in book_pages():
        for cell in page.markdown:
            captions = re.findall(r"^:{3,}\{table\}(.*)$", cell, re.MULTILINE)
            captions += re.findall(r"^```\{glue:figure\}[^\n]*\n(?:[^\n]*\n)*?```", cell, re.MULTILINE)
            found += [f"{page.name}: {c[:80]}" for c in captions if "{cite" in c]
    return found


def test_no_caption_cites():
    assert cited_captions() == []
    assert re.findall(r"^:{3,}\{table\}(.*)$", "::::{table} Caption {cite:p}`x`.\n", re.MULTILINE)


def test_prose_helpers():
    from helpers.report.prose import join_words, nested, parenthetical, plural

    assert plural(1, "cycle") == "1 cycle" and plural(3, "cycle") == "3 cycles"
    assert plural(1, "dated entry", "dated entries") == "1 dated entry" and plural(1200, "record") == "1,200 records"
    assert nested("He 2020 and JICR 2019 (lupus nephritis)") == "He 2020 and JICR 2019 [lupus nephritis]"
    assert parenthetical("TRANSREG (SLE subgroup)") == "(TRANSREG [SLE subgroup])"
    assert join_words([]) == "" and join_words(["a"]) == "a" and join_words(["a", "b", "c"]) == "a, b and c"
