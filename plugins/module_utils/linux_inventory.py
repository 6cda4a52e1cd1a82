# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Raw inventory of a Linux host: what is installed, what runs, which paths exist.

Runs on the managed host. It collects and never decides: the controller's classifier
turns this into a verdict. Everything here is read-only and takes no package-manager
lock (dpkg-query and rpm queries read their databases without one), so a scan can run
beside a package transaction. Parsers are separate from the commands so that they can
be tested with recorded output.

A part it cannot read (the package database, the service list, the process table) is
named in the inventory's `unreadable` list with the reason, so the classifier never
reports such a host compliant; only a host where nothing at all could be read fails
the scan. Written for every Python a managed host may have (see inventory_schema).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import platform

from ansible_collections.avshift.remediation.plugins.module_utils.inventory_schema import (
    SCHEMA_VERSION,
)

# Parts whose loss leaves nothing to judge the host by: when none of them could be
# read, the scan fails instead of returning an empty inventory.
_HOST_PARTS = ("packages", "services", "processes")

# dpkg's db:Status-Abbrev is want/state/error; these states mean files are on disk.
_DPKG_PRESENT_STATES = frozenset("iUFWth")
DPKG_QUERY_ARGS = ["-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Version}\t${Maintainer}\n"]
RPM_QUERY_ARGS = ["-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\t%{VENDOR}\t%{PACKAGER}\n"]
SYSTEMCTL_UNITS_ARGS = [
    "list-units",
    "--type=service",
    "--all",
    "--no-legend",
    "--plain",
    "--no-pager",
]
SYSTEMCTL_UNIT_FILES_ARGS = ["list-unit-files", "--type=service", "--no-legend", "--no-pager"]
# rpm prints "(none)" for a tag a package does not set; an empty one says no more.
_UNSET_RPM_TAGS = ("(none)", "")


def parse_dpkg_query(output):
    """Packages from DPKG_QUERY_ARGS output; removed-but-configured ones are skipped."""
    packages = []
    for line in output.splitlines():
        fields = line.split("\t")
        if len(fields) < 4 or len(fields[0]) < 2 or fields[0][1] not in _DPKG_PRESENT_STATES:
            continue
        packages.append(
            {
                "name": fields[1],
                "version": fields[2] or None,
                "publisher": fields[3] or None,
                "source": "dpkg",
            }
        )
    return packages


def parse_rpm_query(output):
    packages = []
    for line in output.splitlines():
        fields = line.split("\t")
        if len(fields) < 4 or not fields[0]:
            continue
        vendor, packager = fields[2], fields[3]
        publisher = vendor if vendor not in _UNSET_RPM_TAGS else packager
        packages.append(
            {
                "name": fields[0],
                "version": fields[1],
                "publisher": publisher if publisher not in _UNSET_RPM_TAGS else None,
                "source": "rpm",
            }
        )
    return packages


def _service_state(active, sub):
    if sub == "running":
        return "running"
    if active in ("inactive", "failed") or sub in ("dead", "exited", "failed"):
        return "stopped"
    return "unknown"


def parse_systemctl(units_output, unit_files_output):
    """Services from `systemctl list-units` and `list-unit-files`, merged by name.

    list-units knows the state of loaded units (template instances such as clamd@scan
    included); list-unit-files adds installed units that are not loaded, and the start
    mode (enabled, disabled, static, masked) of all of them.
    """
    start_modes = {}
    for line in unit_files_output.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0].endswith(".service"):
            start_modes[fields[0]] = fields[1]
    services = {}
    for line in units_output.splitlines():
        fields = line.split(None, 4)
        if len(fields) < 4 or not fields[0].endswith(".service"):
            continue
        unit, load, active, sub = fields[:4]
        if load == "not-found":
            continue
        template = unit.split("@", 1)[0] + "@.service" if "@" in unit else unit
        services[unit] = {
            "name": unit[: -len(".service")],
            "display_name": fields[4].strip() if len(fields) > 4 else None,
            "state": _service_state(active, sub),
            "start_mode": start_modes.get(unit) or start_modes.get(template),
            "path": None,
        }
    for unit, mode in start_modes.items():
        # A bare template (clamd@.service) is not a service until it has an instance.
        if unit not in services and not unit.endswith("@.service"):
            services[unit] = {
                "name": unit[: -len(".service")],
                "display_name": None,
                "state": "stopped",
                "start_mode": mode,
                "path": None,
            }
    return list(services.values())


def sysv_services(init_dir="/etc/init.d"):
    """Without systemd the state of an init script is unknown without running it."""
    try:
        names = sorted(os.listdir(init_dir))
    except OSError:
        return []
    return [
        {"name": name, "display_name": None, "state": "unknown", "start_mode": None, "path": None}
        for name in names
        if not name.startswith(".") and name not in ("README", "skeleton", "rc", "rcS")
    ]


# A process whose namespace link is gone (ENOENT) is ending: its namespaces were already
# released. One whose link cannot be read for want of rights (EACCES, a scan without
# root) may well be the host's own, and counts.
_GONE = "gone"


def _pid_namespace(proc, pid):
    try:
        return os.readlink(os.path.join(proc, pid, "ns", "pid"))
    except OSError as exc:
        return _GONE if exc.errno == errno.ENOENT else None


# /proc/<pid>/stat states of a process that has ended: zombie, dead.
_ENDED_STATES = ("Z", "X", None)


def _process_state(proc, pid):
    """The state letter of /proc/<pid>/stat (after the name, which may hold spaces and
    parentheses), or None when the process is gone."""
    try:
        with open(os.path.join(proc, pid, "stat"), "rb") as stream:
            return stream.read().rsplit(b")", 1)[1].split()[0].decode("ascii")
    except (IOError, OSError, IndexError, UnicodeDecodeError):
        return None


def processes(proc="/proc"):
    """Running processes: name from comm (or the executable when comm is truncated).

    Processes of other PID namespaces (containers on this host) are left out: they
    belong to container images, whose packages and services this scan does not see
    either, and are counted for a warning instead. Processes that are ending (zombies,
    and processes whose namespaces are already released) run nothing and are left out
    too: their namespace can no longer be read, so a container's ending process would
    otherwise pass for the host's.
    """
    found = {}
    unreadable_exe = 0
    in_containers = 0
    own_namespace = _pid_namespace(proc, "self")
    for pid in os.listdir(proc):
        if not pid.isdigit() or _process_state(proc, pid) in _ENDED_STATES:
            continue
        namespace = _pid_namespace(proc, pid)
        if namespace == _GONE:
            continue  # it ended while we looked: it runs nothing
        if own_namespace and namespace and namespace != own_namespace:
            in_containers += 1
            continue
        try:
            with open(os.path.join(proc, pid, "comm")) as stream:
                name = stream.read().strip()
        except OSError:
            continue  # the process ended while we looked
        try:
            path = os.readlink(os.path.join(proc, pid, "exe"))
        except OSError:
            path = None
            unreadable_exe += 1
        if path and path.endswith(" (deleted)"):
            path = path[: -len(" (deleted)")]
        if path:
            base = os.path.basename(path)
            # The kernel truncates comm to 15 characters.
            if len(name) == 15 and base.startswith(name):
                name = base
        if name:
            found[(name, path)] = {"name": name, "path": path}
    return list(found.values()), unreadable_exe, in_containers


def parse_proc_modules(text):
    return [{"name": line.split(None, 1)[0], "path": None} for line in text.splitlines() if line]


def sys_modules(sys_module="/sys/module"):
    """Loaded modules from sysfs: loadable ones have an initstate, built-in ones do not."""
    try:
        names = os.listdir(sys_module)
    except OSError as exc:
        return [], exc.strerror
    return [
        {"name": name, "path": None}
        for name in sorted(names)
        if os.path.exists(os.path.join(sys_module, name, "initstate"))
    ], None


def existing_paths(candidates):
    return [path for path in candidates if os.path.lexists(path)]


def os_release(path="/etc/os-release"):
    info = {}
    try:
        with open(path) as stream:
            for line in stream:
                key, sep, value = line.strip().partition("=")
                if sep:
                    info[key] = value.strip().strip("\"'")
    except (IOError, OSError):
        pass
    return {
        "name": info.get("PRETTY_NAME") or info.get("NAME") or platform.system(),
        "version": info.get("VERSION_ID") or platform.release(),
        "server": None,
    }


def collect(
    run_command, get_bin_path, candidate_paths, proc="/proc", systemd_dir="/run/systemd/system"
):
    """The raw inventory, warnings, and an error when nothing of the host could be read.

    run_command(argv) -> (rc, stdout, stderr); get_bin_path(name) -> path or None.
    A package database, service list or process table that exists but cannot be read
    is listed in the inventory's `unreadable` with the reason: an inventory without it
    could wrongly look compliant, so the classifier never calls such a host compliant.
    """
    warnings = []
    unreadable = []
    inventory = {
        "schema": SCHEMA_VERSION,
        "host": platform.node() or None,
        "os_family": "linux",
        "os": os_release(),
        "packages": [],
        "services": [],
        "processes": [],
        "drivers": [],
        "paths": existing_paths(candidate_paths),
        "unreadable": unreadable,
    }

    def cannot_read(part, reason):
        unreadable.append({"part": part, "reason": reason})

    package_tools = (
        ("dpkg-query", DPKG_QUERY_ARGS, parse_dpkg_query),
        ("rpm", RPM_QUERY_ARGS, parse_rpm_query),
    )
    found_tool = False
    for tool, args, parser in package_tools:
        binary = get_bin_path(tool)
        if not binary:
            continue
        found_tool = True
        rc, out, err = run_command([binary] + list(args))
        if rc == 0:
            inventory["packages"].extend(parser(out))
        else:
            cannot_read("packages", "{0} failed (rc={1}): {2}".format(tool, rc, err.strip()[:300]))
    if not found_tool:
        warnings.append("no package database found (neither dpkg-query nor rpm)")

    systemctl = get_bin_path("systemctl")
    if systemctl and os.path.isdir(systemd_dir):
        rc_units, units, err_units = run_command([systemctl] + SYSTEMCTL_UNITS_ARGS)
        rc_files, unit_files, err_files = run_command([systemctl] + SYSTEMCTL_UNIT_FILES_ARGS)
        if rc_units == 0:
            inventory["services"] = parse_systemctl(units, unit_files if rc_files == 0 else "")
        else:
            cannot_read(
                "services", "systemctl list-units failed: {0}".format(err_units.strip()[:300])
            )
        if rc_files != 0:
            # Only the start modes come from it; the states are known.
            warnings.append("systemctl list-unit-files failed: {0}".format(err_files.strip()[:300]))
    else:
        inventory["services"] = sysv_services()
        warnings.append("systemd is not running: services listed from /etc/init.d, state unknown")

    try:
        inventory["processes"], unreadable_exe, in_containers = processes(proc)
        if in_containers:
            warnings.append(
                "{0} processes of other PID namespaces (containers) are not part of this "
                "host's inventory".format(in_containers)
            )
        if unreadable_exe and os.geteuid() != 0:
            warnings.append(
                "executable paths of {0} processes are unreadable without root".format(
                    unreadable_exe
                )
            )
    except OSError as exc:
        cannot_read("processes", "cannot list processes from /proc: {0}".format(exc))

    try:
        with open(os.path.join(proc, "modules")) as stream:
            inventory["drivers"] = parse_proc_modules(stream.read())
    except (IOError, OSError):
        # Some containers and sandboxes hide /proc/modules but show /sys/module.
        inventory["drivers"], sys_error = sys_modules()
        if sys_error:
            warnings.append("cannot read kernel modules: {0}".format(sys_error))

    failed_parts = set(item["part"] for item in unreadable)
    error = None
    if all(part in failed_parts for part in _HOST_PARTS):
        error = "; ".join("{0}: {1}".format(i["part"], i["reason"]) for i in unreadable)
    return inventory, warnings, error
