"""The Linux collector's parsers, fed with recorded command output (see recorded/)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from ansible_collections.avshift.remediation.plugins.module_utils import linux_inventory as li

RECORDED = Path(__file__).with_name("recorded")


def _recorded(name: str) -> str:
    return (RECORDED / name).read_text()


def test_dpkg_lists_present_packages_with_maintainer_and_skips_removed_ones():
    packages = {p["name"]: p for p in li.parse_dpkg_query(_recorded("dpkg-query.txt"))}
    # rc (removed, config kept) and un (never installed) are not on the host.
    assert set(packages) == {"bash", "kexec-tools", "kmod", "kesl", "clamav-daemon"}
    assert packages["kesl"] == {
        "name": "kesl",
        "version": "12.1.0-1234",
        "publisher": "AO Kaspersky Lab <support@kaspersky.com>",
        "source": "dpkg",
    }


def test_rpm_takes_vendor_else_packager_and_drops_unset_tags():
    packages = {p["name"]: p for p in li.parse_rpm_query(_recorded("rpm-qa.txt"))}
    assert packages["kesl"]["publisher"] == "AO Kaspersky Lab"
    assert packages["gpg-pubkey"]["publisher"] is None
    assert packages["bash"]["publisher"] == "Rocky Enterprise Software Foundation"
    assert {p["source"] for p in packages.values()} == {"rpm"}


def test_systemctl_states_start_modes_and_template_instances():
    services = {
        s["name"]: s
        for s in li.parse_systemctl(
            _recorded("systemctl-list-units.txt"), _recorded("systemctl-list-unit-files.txt")
        )
    }
    assert services["clamd@scan"]["state"] == "running"
    assert services["clamd@scan"]["start_mode"] == "enabled"  # from the clamd@ template
    assert services["kesl"]["state"] == "stopped"  # failed is not protecting anything
    assert services["clamav-freshclam"]["state"] == "stopped"
    assert services["networking"]["state"] == "stopped"  # oneshot, exited
    assert services["systemd-fsckd"]["state"] == "unknown"  # activating
    # Installed but not loaded units are still services on the host.
    assert services["klnagent64"] == {
        "name": "klnagent64",
        "display_name": None,
        "state": "stopped",
        "start_mode": "disabled",
        "path": None,
    }
    assert "plymouth" not in services  # not-found: no unit file on the host
    assert "clamd@" not in services  # a template is not a service


def test_proc_modules_names():
    text = "klif 16384 0 - Live 0x0\nnf_tables 274432 0 - Live 0x0\n"
    assert [m["name"] for m in li.parse_proc_modules(text)] == ["klif", "nf_tables"]


def test_processes_of_this_machine_include_the_test_runner_itself():
    found, _, _ = li.processes()
    me = os.readlink(f"/proc/{os.getpid()}/exe")
    assert any(p["path"] == me for p in found)


def test_processes_of_other_pid_namespaces_are_left_out(tmp_path):
    """A fake /proc: pid 1 shares the scanner's namespace, pid 2 is in a container."""
    proc = tmp_path / "proc"
    for pid, namespace, name in (
        ("self", "4026531836", ""),
        ("1", "4026531836", "systemd"),
        ("2", "4026532999", "kesl"),
    ):
        _fake_process(proc, pid, name, "S", namespace)
    found, _, in_containers = li.processes(str(proc))
    assert [p["name"] for p in found] == ["systemd"]
    assert in_containers == 1


def _fake_process(proc, pid: str, name: str, state: str, namespace: str | None) -> None:
    (proc / pid / "ns").mkdir(parents=True)
    if namespace is not None:
        (proc / pid / "ns" / "pid").symlink_to(f"pid:[{namespace}]")
    (proc / pid / "comm").write_text(name + "\n")
    # The name in stat may hold spaces and parentheses; the state follows the last ")".
    (proc / pid / "stat").write_text(f"{pid} ({name} (x) y) {state} 1 1 1\n")


def test_ended_processes_are_left_out_whatever_their_namespace(tmp_path):
    """A zombie's namespace link cannot be read: a container's ending process (here
    kesl, a zombie) must not pass for the host's own."""
    proc = tmp_path / "proc"
    _fake_process(proc, "self", "", "R", "4026531836")
    _fake_process(proc, "10", "clamd", "S", "4026531836")
    _fake_process(proc, "11", "kesl", "Z", None)
    _fake_process(proc, "12", "klnagent", "X", None)
    # Still running, but its namespaces are released: it is ending (ENOENT).
    _fake_process(proc, "13", "kesl", "R", None)
    found, _, in_containers = li.processes(str(proc))
    assert [p["name"] for p in found] == ["clamd"]
    assert in_containers == 0


@pytest.mark.parametrize(
    ("error", "text"),
    [(errno.EACCES, "Permission denied"), (errno.EPERM, "Operation not permitted")],
)
def test_a_process_whose_namespace_cannot_be_read_for_want_of_rights_counts(
    tmp_path, monkeypatch, error, text
):
    """A scan without root cannot read other users' namespace links (EACCES), nor any
    under a ptrace policy such as Yama's (EPERM): their processes may be the host's own,
    and must not be dropped. Only a link that is gone (ENOENT) means the process ends."""
    proc = tmp_path / "proc"
    _fake_process(proc, "self", "", "R", "4026531836")
    _fake_process(proc, "20", "kesl", "S", "4026531836")
    real_readlink = os.readlink

    def readlink(path, *args, **kwargs):
        if str(path).endswith("20/ns/pid"):
            raise PermissionError(error, text)
        return real_readlink(path, *args, **kwargs)

    monkeypatch.setattr(li.os, "readlink", readlink)
    found, _, _ = li.processes(str(proc))
    assert [p["name"] for p in found] == ["kesl"]


def test_existing_paths_keeps_only_paths_that_exist(tmp_path):
    present = tmp_path / "opt" / "kaspersky"
    present.mkdir(parents=True)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")  # a link left by an uninstaller counts
    missing = tmp_path / "missing"
    assert li.existing_paths([str(present), str(dangling), str(missing)]) == [
        str(present),
        str(dangling),
    ]


def _fake_tools(outputs: dict[str, tuple[int, str, str]]):
    """Each tool's answer, by its name, or by its name and first argument
    ("systemctl list-unit-files") where a tool's commands answer differently."""

    def run_command(argv):
        tool = os.path.basename(argv[0])
        return outputs.get(f"{tool} {argv[1]}") or outputs[tool]

    def get_bin_path(name):
        return f"/usr/bin/{name}" if any(key.split()[0] == name for key in outputs) else None

    return run_command, get_bin_path


def _unread(inventory: dict) -> dict[str, str]:
    return {item["part"]: item["reason"] for item in inventory["unreadable"]}


def test_a_failing_package_database_is_an_unreadable_part_not_a_warning():
    run, which = _fake_tools({"dpkg-query": (2, "", "dpkg-query: error: parsing file")})
    inventory, warnings, error = li.collect(run, which, [])
    assert (
        "dpkg-query failed (rc=2): dpkg-query: error: parsing file"
        in _unread(inventory)["packages"]
    )
    assert not any("dpkg" in warning for warning in warnings)
    assert error is None  # services and processes were read


def test_a_failing_service_list_is_an_unreadable_part_not_a_warning(tmp_path):
    systemd = tmp_path / "systemd"
    systemd.mkdir()
    run, which = _fake_tools(
        {"dpkg-query": (0, "", ""), "systemctl": (1, "", "Failed to connect to bus")}
    )
    inventory, _warnings, error = li.collect(run, which, [], systemd_dir=str(systemd))
    assert _unread(inventory) == {
        "services": "systemctl list-units failed: Failed to connect to bus"
    }
    assert inventory["services"] == []
    assert error is None


def test_an_unreadable_process_table_is_an_unreadable_part(tmp_path):
    run, which = _fake_tools({"dpkg-query": (0, "", "")})
    inventory, _, _ = li.collect(run, which, [], proc=str(tmp_path / "no-proc"))
    assert "cannot list processes" in _unread(inventory)["processes"]


def test_a_host_where_nothing_could_be_read_fails_the_scan(tmp_path):
    systemd = tmp_path / "systemd"
    systemd.mkdir()
    run, which = _fake_tools({"dpkg-query": (2, "", "locked"), "systemctl": (1, "", "no bus")})
    _, _, error = li.collect(
        run, which, [], proc=str(tmp_path / "no-proc"), systemd_dir=str(systemd)
    )
    assert error and "packages: dpkg-query failed (rc=2): locked" in error
    assert "services: systemctl list-units failed: no bus" in error
    assert "processes: cannot list processes" in error


def test_both_package_databases_are_read_when_both_exist():
    run, which = _fake_tools(
        {
            "dpkg-query": (0, _recorded("dpkg-query.txt"), ""),
            "rpm": (0, _recorded("rpm-qa.txt"), ""),
        }
    )
    inventory, _, error = li.collect(run, which, [])
    assert error is None and inventory["unreadable"] == []
    assert {p["source"] for p in inventory["packages"]} == {"dpkg", "rpm"}
    assert inventory["os_family"] == "linux" and inventory["schema"] == 1


def test_sysfs_lists_loadable_modules_but_not_built_in_ones(tmp_path):
    (tmp_path / "klif").mkdir()
    (tmp_path / "klif" / "initstate").write_text("live\n")
    (tmp_path / "kernel").mkdir()  # built in: no initstate
    assert li.sys_modules(str(tmp_path)) == ([{"name": "klif", "path": None}], None)
    assert li.sys_modules(str(tmp_path / "missing"))[1] == "No such file or directory"


def test_dpkg_keeps_packages_by_their_state_not_by_what_was_wanted_and_skips_short_lines():
    output = (
        "ii \tkesl\t12.1\tAO Kaspersky Lab\n"
        "ii \ttoo-short\t1.0\n"  # a cut line, then lines after it
        "ic \tklnagent64\t15.0\tAO Kaspersky Lab\n"  # wanted, but only its config is left
        "hi \tclamav\t1.4\t\n"  # on hold, installed
        "i\tone-letter-state\t1\tx\n"
        "iU\tunpacked\t2\t\n"
        "ii \tlonger\t3\tX <x@example.org>\ta field more\n"  # kept, the rest ignored
    )
    packages = {p["name"]: p for p in li.parse_dpkg_query(output)}
    assert set(packages) == {"kesl", "clamav", "unpacked", "longer"}
    assert packages["longer"]["publisher"] == "X <x@example.org>"
    assert packages["clamav"]["publisher"] is None and packages["unpacked"]["version"] == "2"


def test_rpm_reads_each_field_and_skips_cut_or_nameless_lines():
    output = (
        "kesl\t12.1-1\t(none)\tAO Kaspersky Lab\n"
        "cut\t1.0\tVendor\n"
        "\t1.0\tVendor\tPackager\n"
        "clamav\t1.4-2.el9\t\tFedora Project\n"
        "bash\t5.1-6\tRocky\t\n"
        "longer\t1-1\tVendor\tPackager\tmore\n"
    )
    packages = {p["name"]: p for p in li.parse_rpm_query(output)}
    assert set(packages) == {"kesl", "clamav", "bash", "longer"}
    assert packages["kesl"]["version"] == "12.1-1"
    assert packages["kesl"]["publisher"] == "AO Kaspersky Lab"  # no vendor: the packager
    assert packages["clamav"]["publisher"] == "Fedora Project"
    assert packages["bash"]["publisher"] == "Rocky"


def test_systemctl_reads_both_column_layouts_descriptions_and_load_states():
    unit_files = (
        "kesl.service enabled enabled\n"  # systemd >= 245 adds the vendor preset
        "klnagent64.service disabled\n"
        "lonely.service\n"
        "clamd.socket enabled\n"
    )
    units = (
        "kesl.service loaded active running Kaspersky Endpoint Security for Linux\n"
        "cut.service loaded active\n"
        "klnagent64.service loaded inactive dead\n"
        "stubbed.service stub inactive dead\n"
        "gone.service not-found inactive dead gone.service\n"
    )
    services = {s["name"]: s for s in li.parse_systemctl(units, unit_files)}
    assert set(services) == {"kesl", "klnagent64", "stubbed"}
    assert services["kesl"]["display_name"] == "Kaspersky Endpoint Security for Linux"
    assert services["kesl"]["start_mode"] == "enabled"
    assert services["klnagent64"]["display_name"] is None
    assert services["klnagent64"]["start_mode"] == "disabled"
    assert services["stubbed"]["state"] == "stopped"


def test_a_truncated_process_name_is_completed_from_its_executable(tmp_path):
    proc = tmp_path / "proc"
    _fake_process(proc, "self", "", "R", "4026531836")
    for pid, comm, exe in (
        ("30", "kesl-supervisor", "/opt/kaspersky/kesl/libexec/kesl-supervisor-daemon"),
        ("31", "klnagent-longer", "/opt/kaspersky/klnagent64/sbin/klnagent-longer-name"),
        ("32", "klnagent", "/opt/kaspersky/klnagent64/sbin/klnagent-other"),
        ("33", "clamd", "/usr/sbin/clamd (deleted)"),  # replaced by an upgrade
        ("34", "freshclam-onlin", "/usr/bin/other"),
    ):
        _fake_process(proc, pid, comm, "S", "4026531836")
        (proc / pid / "exe").symlink_to(exe)
    _fake_process(proc, "35", "kernel-thread", "S", "4026531836")  # no exe link
    found, unreadable_exe, _ = li.processes(str(proc))
    names = {p["name"]: p["path"] for p in found}
    assert names["kesl-supervisor-daemon"].endswith("/kesl-supervisor-daemon")
    assert "klnagent-longer-name" in names
    assert names["klnagent"] == "/opt/kaspersky/klnagent64/sbin/klnagent-other"  # not cut
    assert names["clamd"] == "/usr/sbin/clamd"
    assert names["freshclam-onlin"] == "/usr/bin/other"  # another program: kept as named
    assert names["kernel-thread"] is None
    assert unreadable_exe == 1


def test_a_process_that_ends_while_it_is_read_is_skipped_and_the_rest_are_read(tmp_path):
    proc = tmp_path / "proc"
    _fake_process(proc, "self", "", "R", "4026531836")
    _fake_process(proc, "40", "gone", "S", "4026531836")
    (proc / "40" / "comm").unlink()
    _fake_process(proc, "41", "clamd", "S", "4026531836")
    (proc / "41" / "exe").symlink_to("/usr/sbin/clamd")
    (proc / "uptime").write_text("1 1\n")  # not a process
    (proc / "42").mkdir()  # no stat: already gone
    found, unreadable_exe, _ = li.processes(str(proc))
    assert [p["name"] for p in found] == ["clamd"]
    assert unreadable_exe == 0


def test_a_process_state_is_read_after_the_last_parenthesis_of_its_name(tmp_path):
    proc = tmp_path / "proc"
    _fake_process(proc, "50", "a) Z (b", "S", "4026531836")
    assert li._process_state(str(proc), "50") == "S"
    (proc / "50" / "stat").write_bytes(b"50 (cut")
    assert li._process_state(str(proc), "50") is None
    (proc / "50" / "stat").write_bytes(b"50 (x) \xff 1\n")
    assert li._process_state(str(proc), "50") is None


def test_sysv_services_are_the_init_scripts_without_the_boilerplate(tmp_path):
    init = tmp_path / "init.d"
    init.mkdir()
    for name in ("kesl", "klnagent64", ".depend.boot", "README", "skeleton", "rc", "rcS"):
        (init / name).write_text("#!/bin/sh\n")
    assert [s["name"] for s in li.sysv_services(str(init))] == ["kesl", "klnagent64"]
    assert {s["state"] for s in li.sysv_services(str(init))} == {"unknown"}
    assert li.sysv_services(str(tmp_path / "missing")) == []


def test_os_release_takes_the_pretty_name_else_the_name_and_the_version_id(tmp_path):
    release = tmp_path / "os-release"
    release.write_text(
        'NAME="Rocky Linux"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\nID=rocky\n'
        "VERSION_ID='9.4'\nnot a setting\n"
    )
    assert li.os_release(str(release)) == {
        "name": "Rocky Linux 9.4 (Blue Onyx)",
        "version": "9.4",
        "server": None,
    }
    release.write_text("NAME=Astra Linux\n")
    info = li.os_release(str(release))
    assert info["name"] == "Astra Linux" and info["version"] == li.platform.release()
    missing = li.os_release(str(tmp_path / "missing"))
    assert missing["name"] == li.platform.system()


def test_proc_modules_names_are_the_first_column_whatever_the_spacing():
    text = "klif  16384 0 - Live 0x0\n\nkl_stream\t8192 1 klif, Live 0x0\n"
    assert [m["name"] for m in li.parse_proc_modules(text)] == ["klif", "kl_stream"]


def _systemd(tmp_path):
    systemd = tmp_path / "systemd"
    systemd.mkdir(parents=True)
    return str(systemd)


def test_without_the_start_modes_the_service_states_are_still_read(tmp_path):
    units = "kesl.service loaded active running Kaspersky\n"
    run, which = _fake_tools(
        {
            "dpkg-query": (0, "", ""),
            "systemctl list-units": (0, units, ""),
            "systemctl list-unit-files": (1, "kesl.service enabled\n", "  " + "x" * 400 + "  "),
        }
    )
    inventory, warnings, _ = li.collect(run, which, [], systemd_dir=_systemd(tmp_path))
    [kesl] = inventory["services"]
    assert (kesl["state"], kesl["start_mode"]) == ("running", None)
    assert inventory["unreadable"] == []
    assert "systemctl list-unit-files failed: " + "x" * 300 in warnings
    run, which = _fake_tools(
        {
            "dpkg-query": (0, "", ""),
            "systemctl list-units": (0, units, ""),
            "systemctl list-unit-files": (0, "kesl.service enabled\n", ""),
        }
    )
    inventory, warnings, _ = li.collect(run, which, [], systemd_dir=_systemd(tmp_path / "b"))
    assert inventory["services"][0]["start_mode"] == "enabled"
    assert not any("list-unit-files" in warning for warning in warnings)


def test_a_failure_reason_is_cut_to_300_characters(tmp_path):
    long = "e" * 400
    run, which = _fake_tools({"dpkg-query": (2, "", long), "systemctl": (1, "", long)})
    inventory, _, _ = li.collect(run, which, [], systemd_dir=_systemd(tmp_path))
    unread = _unread(inventory)
    assert unread["packages"] == "dpkg-query failed (rc=2): " + "e" * 300
    assert unread["services"] == "systemctl list-units failed: " + "e" * 300


def test_a_negative_return_code_is_a_failure_too(tmp_path):
    run, which = _fake_tools({"rpm": (-9, "", "killed"), "systemctl": (-15, "", "stopped")})
    inventory, _, _ = li.collect(run, which, [], systemd_dir=_systemd(tmp_path))
    assert set(_unread(inventory)) == {"packages", "services"}


def test_without_systemd_running_the_init_scripts_are_listed_even_with_systemctl_installed(
    tmp_path,
):
    run, which = _fake_tools({"dpkg-query": (0, "", ""), "systemctl": (0, "", "")})
    _, warnings, _ = li.collect(run, which, [], systemd_dir=str(tmp_path / "not-booted"))
    assert any("systemd is not running" in warning for warning in warnings)


def test_a_host_without_any_package_tool_is_warned_about(tmp_path):
    run, which = _fake_tools({"systemctl": (0, "", "")})
    _, warnings, _ = li.collect(run, which, [], systemd_dir=_systemd(tmp_path))
    assert "no package database found (neither dpkg-query nor rpm)" in warnings
    run, which = _fake_tools({"rpm": (0, "", "")})  # the second tool alone is enough
    _, warnings, _ = li.collect(run, which, [], systemd_dir=_systemd(tmp_path / "b"))
    assert not any("no package database" in warning for warning in warnings)


def test_processes_in_containers_and_unreadable_executables_are_warned_about(tmp_path, monkeypatch):
    proc = tmp_path / "proc"
    _fake_process(proc, "self", "", "R", "4026531836")
    _fake_process(proc, "2", "kesl", "S", "4026532999")
    _fake_process(proc, "3", "bash", "S", "4026531836")  # no exe link: unreadable
    run, which = _fake_tools({"dpkg-query": (0, "", "")})
    monkeypatch.setattr(li.os, "geteuid", lambda: 1000)
    _, warnings, _ = li.collect(run, which, [], proc=str(proc), systemd_dir=_systemd(tmp_path))
    assert (
        "1 processes of other PID namespaces (containers) are not part of this "
        "host's inventory" in warnings
    )
    assert "executable paths of 1 processes are unreadable without root" in warnings
    monkeypatch.setattr(li.os, "geteuid", lambda: 0)
    (proc / "2").rename(tmp_path / "gone")
    _, warnings, _ = li.collect(
        run, which, [], proc=str(proc), systemd_dir=_systemd(tmp_path / "b")
    )
    assert not any("unreadable without root" in w or "namespaces" in w for w in warnings)


def test_any_other_pid_namespace_is_a_containers_whatever_its_number(tmp_path):
    proc = tmp_path / "proc"
    _fake_process(proc, "self", "", "R", "4026531836")
    _fake_process(proc, "2", "kesl", "S", "4026531000")  # older than the host's own
    found, _, in_containers = li.processes(str(proc))
    assert found == [] and in_containers == 1


def test_a_process_that_ends_first_does_not_end_the_listing(tmp_path, monkeypatch):
    proc = tmp_path / "proc"
    _fake_process(proc, "self", "", "R", "4026531836")
    _fake_process(proc, "60", "gone", "S", "4026531836")
    (proc / "60" / "comm").unlink()
    _fake_process(proc, "61", "clamd", "S", "4026531836")
    real_listdir = os.listdir
    monkeypatch.setattr(li.os, "listdir", lambda path: sorted(real_listdir(path)))
    assert [p["name"] for p in li.processes(str(proc))[0]] == ["clamd"]


def test_the_inventory_names_the_host_and_warns_only_about_modules_it_could_not_read(
    tmp_path,
):
    run, which = _fake_tools({"dpkg-query": (0, "", "")})
    inventory, warnings, _ = li.collect(
        run, which, [], proc=str(tmp_path / "no-proc"), systemd_dir=_systemd(tmp_path)
    )
    assert inventory["host"] == li.platform.node()
    # No /proc/modules here: /sys/module, which this machine has, is read instead.
    assert not any("kernel modules" in warning for warning in warnings)


def test_start_modes_are_not_read_from_a_list_unit_files_that_failed_with_a_signal(tmp_path):
    units = "kesl.service loaded active running Kaspersky\n"
    run, which = _fake_tools(
        {
            "dpkg-query": (0, "", ""),
            "systemctl list-units": (0, units, ""),
            "systemctl list-unit-files": (-9, "kesl.service enabled\n", "killed"),
        }
    )
    inventory, warnings, _ = li.collect(run, which, [], systemd_dir=_systemd(tmp_path))
    assert inventory["services"][0]["start_mode"] is None
    assert "systemctl list-unit-files failed: killed" in warnings


def test_only_the_unit_files_matching_the_patterns_are_asked_for(tmp_path):
    """Asking systemd for every unit file costs it a second on a host with a few hundred;
    the collector names the catalogue's. No match is an empty answer with exit code 1."""
    asked = []
    answers = {
        "kesl*.service": (0, "kesl.service disabled enabled\n", ""),
        "nothing*.service": (1, "", ""),
        "broken*.service": (1, "", "Failed to list unit files: Access denied"),
    }

    def run(argv):
        asked.append(argv)
        if argv[1] == "list-units":
            return 0, "cron.service loaded active running Cron\n", ""
        if argv[1] == "list-unit-files":
            return answers[argv[-1]]
        return 0, "", ""

    def which(name):
        return f"/usr/bin/{name}" if name in ("dpkg-query", "systemctl") else None

    def collect(patterns, directory):
        asked.clear()
        inventory, warnings, _ = li.collect(
            run, which, [], systemd_dir=_systemd(tmp_path / directory), unit_file_patterns=patterns
        )
        listed = [argv for argv in asked if argv[1] == "list-unit-files"]
        return {s["name"]: s for s in inventory["services"]}, warnings, listed

    services, warnings, [listed] = collect(["kesl*.service"], "a")
    assert listed[listed.index("--") + 1 :] == ["kesl*.service"]
    assert services["kesl"]["start_mode"] == "disabled"  # installed, not loaded
    assert services["kesl"]["state"] == "stopped"
    assert set(services) == {"cron", "kesl"}
    assert not any("list-unit-files" in warning for warning in warnings)

    services, warnings, _ = collect(["nothing*.service"], "b")
    assert set(services) == {"cron"}
    assert not any("list-unit-files" in warning for warning in warnings)

    services, warnings, _ = collect(["broken*.service"], "c")
    assert set(services) == {"cron"}
    assert "systemctl list-unit-files failed: Failed to list unit files: Access denied" in warnings

    services, warnings, listed = collect([], "d")
    assert (set(services), listed) == ({"cron"}, [])
