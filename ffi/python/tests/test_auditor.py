"""The auditor's vector run through the Python bindings (feature `auditor`; run_tests.sh builds
the library with it): every vector file of the repository passes, a changed expected value is
reported as a failed case, and a file that cannot be checked is a typed error."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from letterseal import LettersealError, check_vector_file  # noqa: E402

VECTORS = Path(__file__).resolve().parents[3] / "test-vectors"
FILES = sorted(VECTORS.rglob("*.json"))


def test_there_are_vector_files():
    assert len(FILES) > 50


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(VECTORS)))
def test_every_vector_file_passes(path):
    report = check_vector_file(path.read_text())
    assert report.failed == [], report.failed[:3]
    assert report.passed > 0


def test_a_changed_expected_value_is_a_failed_case():
    data = json.loads((VECTORS / "safety-number.json").read_text())
    case = data["tests"][0]
    # Change the first digit of the expected safety number.
    digits = case["output"]["digits"]
    case["output"]["digits"] = ("1" if digits[0] != "1" else "2") + digits[1:]
    report = check_vector_file(json.dumps(data))
    assert [f.tc_id for f in report.failed] == [case["tcId"]]
    assert report.passed == len(data["tests"]) - 1


@pytest.mark.parametrize(
    "text, kind",
    [
        ("not json", "VectorParse"),
        ('{"schema": "someone-else-v9", "tests": []}', "VectorUnknownStep"),
    ],
)
def test_a_file_that_cannot_be_checked_is_a_typed_error(text, kind):
    with pytest.raises(LettersealError.InvalidInput) as excinfo:
        check_vector_file(text)
    assert excinfo.value.kind == kind
