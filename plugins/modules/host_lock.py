#!/usr/bin/python
# Copyright: avshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_lock
short_description: One remediation at a time per host
version_added: 0.2.0
description:
  - Takes, keeps or gives back the host's remediation lock, a file under the OS family's
    state directory (C(/var/lib/avshift/remediation.lock) on Linux,
    C(%ProgramData%\avshift\remediation.lock) on Windows) that names the change, the run,
    the controller and process that hold it, when it was taken and the run's report
    directory.
  - The task is an action plugin. It reads the lock, decides on the controller whether
    this run may take it, and then takes it on the host, atomically and only if the lock
    still is what it decided on. A lock of another change refuses the host; a lock of
    the same change whose run is gone (its process no longer runs on this controller,
    or its journal says it ended or was interrupted) is taken over, and the takeover is
    recorded; a lock whose owner cannot be checked from here is broken only with
    O(break_lock=true).
  - On Linux it runs this file's Python, on Windows C(host_lock.ps1).
options:
  state:
    description:
      - C(acquire) takes the lock (or keeps it when this run holds it); C(release) gives
        it back when this run holds it; C(inspect) only reads it.
    type: str
    choices: [acquire, release, inspect]
    default: acquire
  change_id:
    description: The change this run carries out; required to acquire.
    type: str
  window:
    description: The change window, C(START/END) (ISO 8601), recorded in the lock.
    type: str
  break_lock:
    description: Take the lock whoever holds it (recorded as a takeover).
    type: bool
    default: false
  path:
    description: Internal; the action plugin passes the family's lock file.
    type: str
  record:
    description: Internal; what the lock is to hold.
    type: dict
  expect_run:
    description: Internal; take the lock only while this run id holds it (a takeover).
    type: str
  run_id:
    description: Internal; release only a lock this run id holds.
    type: str
attributes:
  check_mode:
    support: full
    description: Reads the lock and reports what a real run would do; takes nothing.
  diff_mode:
    support: none
    description: The lock is not shown as a diff.
  platform:
    support: full
    platforms: [posix, windows]
    description: Linux and Windows.
author:
  - avshift maintainers (@avshift)
"""

EXAMPLES = r"""
- name: Take this host's remediation lock
  avshift.remediation.host_lock:
    change_id: CHG0012345
    window: 2026-12-01T22:00+01:00/2026-12-02T04:00+01:00

- name: Give it back
  avshift.remediation.host_lock:
    state: release
"""

RETURN = r"""
held:
  description: Whether this run holds the lock after the task.
  returned: always
  type: bool
  sample: true
holder:
  description: The lock as found, before the task (null when there was none).
  returned: always
  type: dict
  sample: {change_id: CHG0012345, run_id: 6f1c..., controller: ctl-01, pid: 4120}
takeover:
  description: The run whose lock this one took over, when it did.
  returned: when a lock was taken over
  type: dict
  sample: {change_id: CHG0012345, run_id: 1d2e..., report_dir: /srv/reports/r1}
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule


def _read(path):
    try:
        with open(path) as stream:
            return json.load(stream)
    except (IOError, OSError):
        return None
    except ValueError:
        # A lock cut short (a power cut while writing it) holds nobody.
        return {"run_id": None, "unreadable": True}


def _write_new(path, record):
    """Create the lock; False when somebody else created it first."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        if os.path.exists(path):
            return False
        raise exc
    with os.fdopen(fd, "w") as stream:
        json.dump(record, stream)
        stream.flush()
        os.fsync(stream.fileno())
    return True


def _replace(path, record):
    temp = "{0}.{1}.tmp".format(path, os.getpid())
    with open(temp, "w") as stream:
        json.dump(record, stream)
        stream.flush()
        os.fsync(stream.fileno())
    os.chmod(temp, 0o600)
    os.rename(temp, path)


def main():
    module = AnsibleModule(
        argument_spec={
            "state": {
                "type": "str",
                "choices": ["acquire", "release", "inspect"],
                "default": "acquire",
            },
            # Not required in the spec: the task never sets it, its action plugin does.
            "path": {"type": "str"},
            "record": {"type": "dict"},
            "expect_run": {"type": "str"},
            "run_id": {"type": "str"},
            # Taken by the action plugin, passed on unused.
            "change_id": {"type": "str"},
            "window": {"type": "str"},
            "break_lock": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    path = module.params["path"]
    if not path:
        module.fail_json(
            msg="host_lock's path is set by its action plugin: run it as the "
            "avshift.remediation.host_lock task"
        )
    holder = _read(path)
    state = module.params["state"]
    if state == "inspect":
        module.exit_json(changed=False, held=False, holder=holder)
    if state == "release":
        mine = holder is not None and holder.get("run_id") == module.params["run_id"]
        if mine and not module.check_mode:
            os.unlink(path)
        module.exit_json(changed=mine, held=False, holder=holder)
    record = module.params["record"] or {}
    if holder is not None and holder.get("run_id") == record.get("run_id"):
        module.exit_json(changed=False, held=True, holder=holder)
    expected = module.params["expect_run"]
    if (holder.get("run_id") if holder else None) != expected:
        module.fail_json(
            msg="the lock changed hands while it was being taken: {0}".format(json.dumps(holder)),
            held=False,
            holder=holder,
        )
    if module.check_mode:
        module.exit_json(changed=True, held=False, holder=holder)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    if holder is None:
        if not _write_new(path, record):
            module.fail_json(
                msg="another run took the lock first: {0}".format(json.dumps(_read(path))),
                held=False,
                holder=_read(path),
            )
    else:
        _replace(path, record)
    module.exit_json(changed=True, held=True, holder=holder)


if __name__ == "__main__":
    main()
