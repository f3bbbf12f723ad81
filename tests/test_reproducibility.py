"""Pinned, hash-checked dependencies; licences and citation metadata present."""

from __future__ import annotations

import re

import yaml

from helpers.paths import ROOT

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", re.M)


def pins(text: str) -> dict[str, str]:
    return {name.lower().replace("_", "-"): version for name, version in PIN.findall(text)}


def test_lock_pins_the_same_versions_as_requirements_with_hashes():
    lock_text = (ROOT / "requirements.lock").read_text()
    requirements = pins((ROOT / "requirements.txt").read_text())
    lock = pins(lock_text)
    assert len(requirements) > 100
    assert {k: v for k, v in lock.items() if k not in ("setuptools", "wheel", "pip")} == requirements
    entries = re.split(r"\n(?=[A-Za-z0-9_.\-]+==)", lock_text.split("\n", 2)[2])
    assert all("--hash=sha256:" in e for e in entries if PIN.match(e))


def test_every_requirement_is_pinned_exactly():
    text = (ROOT / "requirements.txt").read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines[-1] == "-e ."
    assert all(PIN.match(line) for line in lines[:-1]), [line for line in lines[:-1] if not PIN.match(line)]


def test_citation_and_licences():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["license"] == "MIT"
    assert cff["references"][0]["doi"] == "10.1101/2022.12.02.22283038"
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert "CC BY 4.0" in (ROOT / "data" / "LICENSE.md").read_text()
