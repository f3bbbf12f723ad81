"""The on-disk cache of validated tables (helpers.evidence.validated_cache): a table validated once is read
back in later processes; bad data is never kept; anything validation depends on changes the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers.evidence import load, schemas, validated_cache
from helpers.evidence.load import DataValidationError, load_table
from helpers.paths import ROOT


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setattr(validated_cache, "CACHE_DIR", folder)
    monkeypatch.setattr(load, "_VALIDATED", {})  # as in a new process
    return folder


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(ROOT / "data" / "outcome_definitions.csv", folder)
    return folder


def test_a_validated_table_is_read_back_without_validating(cache_dir, data, monkeypatch):
    first = load_table(data, schemas.outcome_definitions_spec)
    assert len(list(cache_dir.glob("*.pkl"))) == 1

    def fail(*_):
        raise AssertionError("validated again although the table, inputs and code are unchanged")

    monkeypatch.setattr(load, "_VALIDATED", {})
    monkeypatch.setattr(load, "validate_table", fail)
    again = load_table(data, schemas.outcome_definitions_spec)
    pd.testing.assert_frame_equal(again, first)
    assert list(again.dtypes) == list(first.dtypes)


def test_bad_data_is_refused_every_time_and_never_kept(cache_dir, data, monkeypatch):
    path = data / "outcome_definitions.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("domain")] = "SYNTHETIC-not-a-domain"
    path.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", encoding="utf-8")
    for _ in range(2):
        monkeypatch.setattr(load, "_VALIDATED", {})
        with pytest.raises(DataValidationError, match="outcome_definitions.csv"):
            load_table(data, schemas.outcome_definitions_spec)
    assert not cache_dir.exists() or not list(cache_dir.glob("*.pkl"))


def test_a_damaged_file_is_validated_again(cache_dir, data, monkeypatch):
    first = load_table(data, schemas.outcome_definitions_spec)
    (kept,) = cache_dir.glob("*.pkl")
    kept.write_bytes(b"SYNTHETIC damaged pickle")
    calls = []
    validate = load.validate_table
    monkeypatch.setattr(load, "_VALIDATED", {})
    monkeypatch.setattr(load, "validate_table", lambda *a: calls.append(1) or validate(*a))
    pd.testing.assert_frame_equal(load_table(data, schemas.outcome_definitions_spec), first)
    assert calls == [1]


def test_the_key_follows_the_bytes_the_inputs_and_the_code(monkeypatch):
    base = validated_cache.key("studies_spec", b"a,b\n", ({"x", "y"},))
    assert validated_cache.key("studies_spec", b"a,b\n", ({"y", "x"},)) == base  # set order does not matter
    assert validated_cache.key("studies_spec", b"a,c\n", ({"x", "y"},)) != base
    assert validated_cache.key("studies_spec", b"a,b\n", ({"x"},)) != base
    assert validated_cache.key("arms_spec", b"a,b\n", ({"x", "y"},)) != base
    monkeypatch.setattr(validated_cache, "code_fingerprint", lambda: "SYNTHETIC other code")
    assert validated_cache.key("studies_spec", b"a,b\n", ({"x", "y"},)) != base


def test_canonical_text_sorts_sets_and_dicts_at_any_depth():
    a = validated_cache.canonical({"k": {"b", "a"}, "j": [frozenset({2, 1}), ("t",)]})
    b = validated_cache.canonical({"j": [frozenset({1, 2}), ("t",)], "k": {"a", "b"}})
    assert a == b == "{'j':[{1,2},['t']],'k':{'a','b'}}"


def test_inputs_whose_text_could_be_shortened_are_refused():
    with pytest.raises(TypeError, match="plain values, not Series"):
        validated_cache.canonical((pd.Series(range(100)),))
