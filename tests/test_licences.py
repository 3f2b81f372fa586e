"""Licences and citation: code under MIT, lessons under CC BY 4.0, a valid CITATION.cff naming the source thread."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_code_is_mit_and_lessons_cc_by():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    lessons = (ROOT / "LICENSE-lessons.txt").read_text()
    assert "Creative Commons Attribution 4.0 International Public License" in lessons
    assert "Section 3 -- License Conditions." in lessons  # the whole legal code, not a summary
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and set(project["license-files"]) == {"LICENSE", "LICENSE-lessons.txt"}
    readme = (ROOT / "README.md").read_text()
    assert "CC BY 4.0" in readme or "Creative Commons Attribution 4.0" in readme


def test_citation_file_is_complete():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "license", "version"):
        assert cff[key], key
    assert cff["license"] == "MIT"
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert cff["version"] == version
    (thread,) = cff["references"]
    assert "EIMS2.1で不審者がPOP3サーバへ侵入?" in thread["title"] and thread["year"] == 1998
