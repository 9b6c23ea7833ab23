"""The tox version matrix: its constraints file stays in step with constraints.txt, and every env is wired
to install, check and merge the version it names."""

from __future__ import annotations

import configparser
import re

from conftest import ROOT

MATRIX_FREE = {"botocore", "requests-aws4auth", "urllib3"}


def _pins(path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{path.name}: {line!r} is not NAME==VERSION"
            pins[name.strip().lower()] = version.strip()
    return pins


def test_matrix_constraints_follow_constraints_txt():
    main, matrix = _pins(ROOT / "constraints.txt"), _pins(ROOT / "constraints-matrix.txt")
    assert MATRIX_FREE <= set(main)
    assert not MATRIX_FREE & set(matrix), "the matrix file must leave the matrix libraries free"
    assert matrix == {k: v for k, v in main.items() if k not in MATRIX_FREE}


def _tox() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "tox.ini")
    return parser


def _expand(section: str) -> list[str]:
    m = re.fullmatch(r"testenv:(.*)\{(.*)\}", section)
    return [m.group(1) + part for part in m.group(2).split(",")] if m else [section.removeprefix("testenv:")]


def test_tox_matrix_is_wired():
    tox = _tox()
    assert tox.has_section("testenv:tests") and tox.has_section("testenv:report")
    botocore_section = next(s for s in tox.sections() if s.startswith("testenv:botocore-{"))
    botocore_envs = _expand(botocore_section)
    pinned = [e for e in botocore_envs if re.fullmatch(r"botocore-\d+\.\d+\.\d+", e)]
    assert len(pinned) >= 3 and "botocore-latest" in botocore_envs
    body = tox[botocore_section]
    for env in pinned:
        version = env.split("-", 1)[1]
        assert f"{version}: BOTOCORE_VERSION = {version}" in body["set_env"]
        deps_line = next(line for line in body["deps"].splitlines() if "botocore==" in line)
        assert version in deps_line.split(":")[0] and deps_line.endswith("botocore=={env:BOTOCORE_VERSION}")
    assert "--expect-version py-botocore={env:BOTOCORE_VERSION}" in body["commands"]
    assert "PIP_CONSTRAINT = {toxinidir}/constraints-matrix.txt" in body["set_env"]
    aws4auth = _expand(next(s for s in tox.sections() if s.startswith("testenv:aws4auth-{")))
    assert {"aws4auth-1.3.1", "aws4auth-latest"} <= set(aws4auth)

    label = tox["tox"]["labels"]
    matrix = [e.strip() for e in label.split("=", 1)[1].split(",")]
    assert matrix[-1] == "report-matrix"
    merged = tox["testenv:report-matrix"]["commands"]
    for env in matrix[:-1]:
        assert env in botocore_envs + aws4auth
        assert f"{{[matrix]out}}/{env} " in merged, f"report-matrix does not merge {env}"
    assert "botocore-current" not in matrix  # the upgrade check's baseline, not a matrix column
    assert "sigharness diff {[matrix]out}/botocore-current {[matrix]out}/botocore-latest" in tox["testenv:botocore-upgrade-check"]["commands"]
