"""execution-environment.yml: the image AWX / AAP runs the collection in.

`ansible-builder create` writes the build context (Containerfile and _build/) from the
definition; no image is built (that needs a registry). The context is checked for the
base image, the pinned ansible-core and runner, the collection tarball and the
dependencies, and two of its steps are run here: the collection install of the galaxy
stage, and ansible-builder's own dependency introspection over the installed collections.

ansible-builder is found in .venv, or at AVSHIFT_ANSIBLE_BUILDER (a path to the
executable) until requirements/dev.txt pins it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import ansible_collections.ansible.windows as ansible_windows
import pytest
import yaml
from ansible.release import __version__ as ansible_core_version
from ansible_cores import supported_floor
from packaging_support import BIN, GALAXY, ROOT, TARBALL_NAME, isolated_env, quiet_env

DEFINITION = ROOT / "execution-environment.yml"
DEV_PINS = dict(
    line.split("==", 1)
    for line in (ROOT / "requirements" / "dev.txt").read_text().splitlines()
    if "==" in line and not line.startswith("#")
)


def _ansible_builder() -> str:
    configured = os.environ.get("AVSHIFT_ANSIBLE_BUILDER")
    if configured:
        return configured
    if (BIN / "ansible-builder").exists():
        return str(BIN / "ansible-builder")
    pytest.skip(
        "ansible-builder is not installed in .venv (pin it in requirements/dev.txt) "
        "and AVSHIFT_ANSIBLE_BUILDER does not name one"
    )


@pytest.fixture(scope="module")
def definition() -> dict:
    return yaml.safe_load(DEFINITION.read_text())


@pytest.fixture(scope="module")
def context(collection_tarball, tmp_path_factory) -> Path:
    """The build context ansible-builder writes, from a checkout with a built tarball."""
    builder = _ansible_builder()
    checkout = tmp_path_factory.mktemp("ee")
    shutil.copy(DEFINITION, checkout / DEFINITION.name)
    (checkout / "build").mkdir()
    shutil.copy(collection_tarball, checkout / "build" / TARBALL_NAME)
    context = checkout / "context"
    done = subprocess.run(
        [builder, "create", "--file", DEFINITION.name, "--context", str(context), "-v", "3"],
        cwd=checkout,
        capture_output=True,
        text=True,
        env=quiet_env(),
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "No matches" not in output, output
    return context


def _containerfile(context: Path) -> str:
    return (context / "Containerfile").read_text()


def _stage(containerfile: str, name: str) -> str:
    """The lines of one build stage (FROM ... AS name up to the next FROM)."""
    match = re.search(rf"^FROM \S+ AS {name}\n(.*?)(?=^FROM |\Z)", containerfile, re.M | re.S)
    assert match, f"no {name} stage in the Containerfile"
    return match.group(1)


def test_definition_is_ansible_builder_v3(definition):
    assert definition["version"] == 3


def test_containerfile_starts_from_the_base_image(context, definition):
    base = definition["images"]["base_image"]["name"]
    containerfile = _containerfile(context)
    assert f'ARG EE_BASE_IMAGE="{base}"' in containerfile
    assert "FROM $EE_BASE_IMAGE AS base" in containerfile


def test_containerfile_installs_the_ansible_core_and_runner_the_tests_use(context):
    containerfile = _containerfile(context)
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]*)"', containerfile, re.M).group(1)
    assert sorted(refs.split()) == [
        f"ansible-core=={ansible_core_version}",
        f"ansible-runner=={DEV_PINS['ansible-runner']}",
    ]
    assert "RUN $PYCMD -m pip install --no-cache-dir $ANSIBLE_INSTALL_REFS" in containerfile


def test_context_carries_the_built_collection(context, collection_tarball):
    shipped = context / "_build" / "collections" / TARBALL_NAME
    assert shipped.is_file()
    digest = hashlib.sha256(shipped.read_bytes()).hexdigest()
    assert digest == hashlib.sha256(collection_tarball.read_bytes()).hexdigest()
    galaxy = _stage(_containerfile(context), "galaxy")
    assert "COPY _build /build" in galaxy
    assert "/build/collections/avshift-remediation-*.tar.gz" in galaxy


def test_galaxy_stage_installs_the_collection_and_ansible_windows(context, tmp_path):
    """Run the galaxy stage's own install command, with its paths moved under tmp_path."""
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert requirements["collections"] == [
        {"name": "ansible.windows", "version": _bundled_version(ansible_windows)}
    ]
    galaxy = _stage(_containerfile(context), "galaxy")
    command = next(
        line.removeprefix("RUN ")
        for line in galaxy.splitlines()
        if "avshift-remediation-" in line and line.startswith("RUN ")
    )
    collections = tmp_path / "usr-share-ansible-collections"
    command = command.replace("/build/", f"{context / '_build'}/").replace(
        "/usr/share/ansible/collections", str(collections)
    )
    env = isolated_env(collections, PATH=f"{BIN}:{os.environ['PATH']}")
    done = subprocess.run(
        ["sh", "-c", command], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads(
        (
            collections / "ansible_collections" / "avshift" / "remediation" / "MANIFEST.json"
        ).read_text()
    )
    assert manifest["collection_info"]["version"] == GALAXY["version"]


def _bundled_version(package) -> str:
    manifest = _package_dir(package) / "MANIFEST.json"
    return json.loads(manifest.read_text())["collection_info"]["version"]


def _package_dir(package) -> Path:
    # Collections are namespace packages: no __file__, one directory on __path__.
    return Path(next(iter(package.__path__)))


def test_builder_introspection_yields_winrm_with_kerberos_and_its_system_packages(
    context, collection_tarball, tmp_path
):
    """ansible-builder's introspect step, over the collections the image will hold."""
    collections = tmp_path / "collections"
    install = [str(BIN / "ansible-galaxy"), "collection", "install", "--offline"]
    done = subprocess.run(
        [*install, str(collection_tarball), "-p", str(collections)],
        capture_output=True,
        text=True,
        env=isolated_env(collections),
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    shutil.copytree(
        _package_dir(ansible_windows),
        collections / "ansible_collections" / "ansible" / "windows",
    )
    build = context / "_build"
    pip_out, bindep_out = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    introspect = [str(BIN / "python"), str(build / "scripts" / "introspect.py"), "introspect"]
    introspect += ["--user-pip", str(build / "requirements.txt")]
    introspect += ["--user-bindep", str(build / "bindep.txt")]
    introspect += ["--write-pip", str(pip_out), "--write-bindep", str(bindep_out)]
    done = subprocess.run(
        [*introspect, str(collections)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    python = [line.split("#")[0].strip() for line in pip_out.read_text().splitlines()]
    assert f"pywinrm[kerberos,credssp]=={DEV_PINS['pywinrm']}" in python
    # The history store's libraries, at the versions the tests run.
    for package in ("SQLAlchemy", "alembic"):
        assert f"{package}=={DEV_PINS[package]}" in python
    assert f"psycopg[binary]=={DEV_PINS['psycopg[binary]']}" in python
    system = [line.split("#")[0].strip() for line in bindep_out.read_text().splitlines()]
    for package in (
        "krb5-libs [platform:rpm]",
        "krb5-workstation [platform:rpm]",
        "krb5-devel [platform:rpm compile]",
        "gcc [platform:rpm compile]",
        "python3-devel [platform:rpm compile]",
        "openssh-clients [platform:rpm]",
    ):
        assert package in system


def test_every_build_argument_docs_awx_gives_is_one_the_containerfile_takes(context):
    documented = dict(
        re.findall(r'--build-arg ([A-Z_]+)=("[^"]*"|\S+)', (ROOT / "docs" / "awx.md").read_text())
    )
    taken = set(re.findall(r"^ARG ([A-Z_]+)", _containerfile(context), re.M))
    assert {"EE_BASE_IMAGE", "PKGMGR", "PYCMD", "ANSIBLE_INSTALL_REFS"} <= set(documented)
    assert set(documented) <= taken, set(documented) - taken
    # On AAP 2.5's ee-minimal, pip is asked for what the image holds: the collection's
    # oldest supported ansible-core or newer, and any runner, so nothing is replaced.
    refs = documented["ANSIBLE_INSTALL_REFS"].strip('"').split()
    assert refs == [f"ansible-core>={'.'.join(map(str, supported_floor()))}", "ansible-runner"]
