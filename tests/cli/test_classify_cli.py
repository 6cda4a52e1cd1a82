"""`avshift classify` as an operator runs it: a real subprocess, its stdout, stderr and
exit code (0 all compliant, 1 any not, 2 invalid input)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
INVENTORIES = DATA / "inventories"
POLICIES = DATA / "policies"
EXAMPLES = ROOT / "examples" / "inventories"

COMPLIANT = INVENTORIES / "linux-clamav.json"
NON_COMPLIANT = INVENTORIES / "linux-kesl.json"
DEFENDER_OFF = INVENTORIES / "windows-defender-off.json"
DRWEB = INVENTORIES / "linux-drweb-clamav.json"


def _avshift() -> str:
    # The console script of the interpreter running the tests (the project venv), else
    # the checkout's own venv.
    beside = Path(sys.executable).with_name("avshift")
    return str(beside if beside.exists() else ROOT / ".venv" / "bin" / "avshift")


def classify(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_avshift(), "classify", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def assert_clean_error(result, *fragments):
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines, "an invalid input must say why on stderr"
    for fragment in fragments:
        assert fragment in result.stderr


# -- valid input -------------------------------------------------------------------------


def test_one_compliant_file_is_one_json_object_and_exit_0():
    result = classify(COMPLIANT)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    verdict = json.loads(result.stdout)
    assert isinstance(verdict, dict)
    assert verdict["host"] == "deb-clamav"
    assert verdict["compliant"] is True
    assert [(f["vendor"], f["active"]) for f in verdict["approved"]] == [("clamav", True)]


def test_one_non_compliant_file_exits_1():
    result = classify(NON_COMPLIANT)
    assert result.returncode == 1, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["host"] == "rocky-kesl"
    assert verdict["compliant"] is False
    assert [(f["vendor"], f["product"]) for f in verdict["disallowed"]] == [("kaspersky", "kesl")]


def test_defender_off_without_anything_disallowed_is_still_non_compliant():
    result = classify(DEFENDER_OFF)
    assert result.returncode == 1, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["disallowed"] == []
    assert [f["active"] for f in verdict["approved"]] == [False]


def test_several_files_are_json_lines_in_argument_order():
    result = classify(NON_COMPLIANT, COMPLIANT, DEFENDER_OFF, COMPLIANT)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    verdicts = [json.loads(line) for line in lines]
    assert [v["host"] for v in verdicts] == ["rocky-kesl", "deb-clamav", "WIN-NODEF", "deb-clamav"]
    assert [v["compliant"] for v in verdicts] == [False, True, False, True]


def test_several_compliant_files_exit_0():
    result = classify(COMPLIANT, DRWEB)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["compliant"] for line in result.stdout.splitlines()] == [True, True]


def test_policy_option_changes_the_verdict():
    assert classify(DRWEB).returncode == 0
    result = classify(DRWEB, "--policy", POLICIES / "strict.yml")
    assert result.returncode == 1, result.stderr
    verdict = json.loads(result.stdout)
    assert [f["vendor"] for f in verdict["disallowed"]] == ["drweb"]


# -- invalid inventories -------------------------------------------------------------------


CONTRACT_BREAKERS = {
    "invalid-missing-os-family.json": ["os_family", "missing"],
    "invalid-packages-mapping.json": ["packages", "list"],
    "invalid-service-state.json": ["services[0].state", "'active'"],
    "invalid-schema.json": ["schema", "2"],
}
# Malformed files cannot carry a hand-written marker; they are written here.
MALFORMED = {
    "bad.json": ('{"os_family": "linux",\n  "packages": [\n', ["invalid JSON", "line"]),
    "trailing-comma.json": ('{"os_family": "linux", "packages": [],}', ["invalid JSON"]),
    "empty.json": ("", ["empty"]),
    "blank.json": ("  \n\n", ["empty"]),
    "array.json": ('[{"os_family": "linux"}]', ["object"]),
    "null.json": ("null", ["object"]),
    "family-number.json": ('{"os_family": 7}', ["os_family"]),
    "host-number.json": ('{"os_family": "linux", "host": 7}', ["host"]),
}


def test_one_invalid_file_exits_2_with_one_line_and_no_output():
    name = "invalid-service-state.json"
    result = classify(INVENTORIES / name)
    assert_clean_error(result, name, *CONTRACT_BREAKERS[name])
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1


def test_each_invalid_file_gets_one_error_line_naming_file_and_field(tmp_path):
    """One run over every kind of invalid file (one process keeps the suite fast)."""
    paths, expected = [], []
    for name, fragments in CONTRACT_BREAKERS.items():
        paths.append(INVENTORIES / name)
        expected.append((name, fragments))
    for name, (text, fragments) in MALFORMED.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
        expected.append((name, fragments))
    result = classify(*paths)
    assert_clean_error(result)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == len(expected), result.stderr
    for line, (name, fragments) in zip(lines, expected, strict=True):
        assert name in line
        for fragment in fragments:
            assert fragment in line, (name, fragment, line)


def test_unreadable_inputs_exit_2(tmp_path):
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"os_family": "linux", "host": "caf\xe9"}'.encode("latin-1"))
    for path in (tmp_path / "absent.json", latin1, tmp_path):
        result = classify(path)
        assert_clean_error(result, str(path))
        assert result.stdout == ""


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 200_000 + "]" * 200_000, id="deeply-nested"),
        pytest.param(
            '{"os_family": "windows", "security_center": [{"display_name": "Windows Defender",'
            ' "product_state": ' + "9" * 5000 + "}]}",
            id="5000-digit-number",
        ),
    ],
)
def test_pathological_json_is_invalid_input_not_a_crash(tmp_path, text):
    """A corrupted or hostile inventory must still be exit 2 with one line on stderr:
    exit 1 would read as "not compliant", and a traceback hides the file's name."""
    path = tmp_path / "weird.json"
    path.write_text(text, encoding="utf-8")
    result = classify(path)
    assert_clean_error(result, "weird.json")
    assert len(result.stderr.splitlines()) == 1


def test_mixed_valid_and_invalid_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    missing = INVENTORIES / "invalid-missing-os-family.json"
    result = classify(COMPLIANT, bad, NON_COMPLIANT, missing)
    # Results for the valid files, in order, on stdout.
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert [v["host"] for v in verdicts] == ["deb-clamav", "rocky-kesl"]
    # One error line per invalid file, each naming its file.
    errors = result.stderr.splitlines()
    assert len(errors) == 2
    assert "bad.json" in errors[0]
    assert "invalid-missing-os-family.json" in errors[1] and "os_family" in errors[1]
    # Invalid input wins over "not compliant".
    assert_clean_error(result)


def test_no_inventory_argument_exits_2():
    assert_clean_error(classify())


# -- invalid policies ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fragments"),
    [
        ("unknown_key.yml", ["exceptions"]),
        ("unknown_vendor.yml", ["disallowed_vendors[1]", "kasperksy", "kaspersky"]),
        ("uppercase_vendor.yml", ["approved.windows[0]", "Microsoft"]),
        ("disallowed_and_approved.yml", ["microsoft"]),
        ("string_not_list.yml", ["disallowed_vendors", "kaspersky"]),
        ("approved_string.yml", ["approved.linux", "clamav"]),
        ("no_product_for_family.yml", ["approved.windows[0]", "clamav"]),
        ("unknown_os_family.yml", ["approved.macos"]),
        ("syntax_error.yml", ["line 8"]),
        ("missing_disallowed.yml", ["disallowed_vendors"]),
    ],
)
def test_invalid_policy_exits_2_naming_file_key_and_value(name, fragments):
    result = classify(COMPLIANT, "--policy", POLICIES / "invalid" / name)
    assert_clean_error(result, name, *fragments)
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1


def test_missing_policy_file_exits_2(tmp_path):
    result = classify(COMPLIANT, "--policy", tmp_path / "nope.yml")
    assert_clean_error(result, "nope.yml")


# -- the README's example inventories ---------------------------------------------------------

# Worked out by hand from each example and the shipped policy.
EXAMPLE_VERDICTS = {
    "linux-kesl-netagent.json": ("app-rocky-01", False, {"kesl", "klnagent"}, {}),
    "debian12-clamav.json": ("web-deb-02", True, set(), {"clamav_linux": True}),
    "win11-kes.json": (
        "PC-FIN-0142",
        False,
        {"kes_windows", "klnagent"},
        {"defender_antivirus": False, "defender_for_endpoint_windows": False},
    ),
    "win2022-defender.json": (
        "SRV-FILE-03",
        True,
        set(),
        {"defender_antivirus": True, "defender_for_endpoint_windows": False},
    ),
}


def test_example_inventories():
    names = sorted(EXAMPLE_VERDICTS)
    result = classify(*(EXAMPLES / name for name in names))
    assert result.returncode == 1, result.stderr
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(verdicts) == len(names)
    for name, verdict in zip(names, verdicts, strict=True):
        host, compliant, disallowed, approved = EXAMPLE_VERDICTS[name]
        example = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
        assert "hand-written" in example["_comment"].lower(), name
        assert verdict["host"] == host
        assert verdict["compliant"] is compliant, name
        assert {f["product"] for f in verdict["disallowed"]} == disallowed, name
        assert {f["vendor"] for f in verdict["disallowed"]} <= {"kaspersky"}
        assert {f["product"]: f["active"] for f in verdict["approved"]} == approved, name
        assert verdict["other"] == [], name
        # Every Kaspersky path an example lists joined a finding: nothing is residue.
        assert verdict["residue"] == [], name
        paths = {
            item["value"]
            for finding in verdict["disallowed"]
            for item in finding["evidence"]
            if item["kind"] == "path"
        }
        assert paths == set(example.get("paths") or []), name


def test_compliant_examples_exit_0():
    result = classify(EXAMPLES / "debian12-clamav.json", EXAMPLES / "win2022-defender.json")
    assert result.returncode == 0, result.stderr


# -- field-shaped inventories ---------------------------------------------------------------

# Hosts shaped after vendors' documentation of what their installers create (each file's
# _comment names its source); verdicts under the shipped policy, worked out by hand:
# host, compliant, disallowed (product -> the name it was found by), other (vendor/product),
# residue (vendors).
FIELD_VERDICTS = {
    "windows-ksc-server-de.json": (
        "KSC-CL-01",
        False,
        {
            "ksc_server": "Kaspersky Security Center 14.2 Administrationsserver",
            "klnagent": "Kaspersky Security Center 14 Administrationsagent",
            "ksc_console": "Kaspersky Security Center 14.2 Verwaltungskonsole",
        },
        set(),
        set(),
    ),
    "linux-astra-kesl.json": (
        "astra-ws-17",
        False,
        {"kesl": "kesl-astra", "klnagent": "klnagent64-astra"},
        set(),
        set(),
    ),
    "linux-ksc-server.json": (
        "ksc-lnx-01",
        False,
        {"ksc_server": "ksc64", "ksc_web_console": "ksc-web-console", "klnagent": "klnagent64"},
        set(),
        set(),
    ),
    "windows-kes12-fr.json": (
        "PC-LYON-0231",
        False,
        {
            "kes_windows": "Kaspersky Endpoint Security pour Windows",
            "klnagent": "Agent d'administration de Kaspersky Security Center",
        },
        set(),
        set(),
    ),
    # Software that arrives by itself: Kaspersky's update put UltraAV in its place.
    "windows-ultraav.json": (
        "HOME-PC-7",
        False,
        {},
        {"pango/ultraav", "pango/ultravpn"},
        {"kaspersky"},
    ),
    "linux-eset-agent.json": (
        "app-deb-09",
        False,
        {},
        {"eset/eset_linux", "eset/eset_agent_linux"},
        set(),
    ),
    "windows-sentinelone.json": (
        "SRV-APP-21",
        True,
        {},
        {"sentinelone/sentinelone_windows"},
        set(),
    ),
}


def test_field_shaped_inventories():
    names = sorted(FIELD_VERDICTS)
    result = classify(*(INVENTORIES / name for name in names))
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(verdicts) == len(names), result.stderr
    for name, verdict in zip(names, verdicts, strict=True):
        host, compliant, disallowed, other, residue = FIELD_VERDICTS[name]
        inventory = json.loads((INVENTORIES / name).read_text(encoding="utf-8"))
        assert "hand-written" in inventory["_comment"].lower(), name
        assert verdict["host"] == host
        assert verdict["compliant"] is compliant, name
        assert {f["product"]: f["name"] for f in verdict["disallowed"]} == disallowed, name
        assert {f"{f['vendor']}/{f['product']}" for f in verdict["other"]} == other, name
        assert {item["vendor"] for item in verdict["residue"]} == residue, name
    assert result.returncode == (0 if all(v["compliant"] for v in verdicts) else 1)
