"""The shipped fleet_report callback, which also records the size of the state it holds.

Benchmarks only (bench/fleet_scale.py): enabled instead of avshift.remediation.fleet_report
with ANSIBLE_CALLBACK_PLUGINS=bench/callback_plugins and
ANSIBLE_CALLBACKS_ENABLED=fleet_report_probe. It does everything the shipped callback
does; when the play's stats arrive, before the reports are rendered, it measures the
deep size of what the callback keeps for the whole run (its fold of the events, the
events waiting for a journal, the journal writer) and writes it, as JSON, to the file
AVSHIFT_BENCH_PROBE names.
"""

import json
import os
import sys
import time
import types

from ansible_collections.avshift.remediation.plugins.callback import fleet_report

# Ansible reads a plugin's options from its module's DOCUMENTATION: the shipped ones.
DOCUMENTATION = fleet_report.DOCUMENTATION.replace(
    "name: fleet_report", "name: fleet_report_probe", 1
)

# The callback's own state: what the shipped callback adds to CallbackBase's.
HELD = ("_fold", "_pending", "_journal")
# Shared with the rest of the process, not held for the run: not followed.
_SHARED = (type, types.ModuleType, types.FunctionType, types.MethodType, types.BuiltinFunctionType)


def deep_size(roots):
    """Bytes of the objects reachable from roots (sys.getsizeof, each object once).

    Follows dicts, lists, tuples, sets, instances' __dict__ and __slots__. Strings a
    host's record shares with Ansible (its name) count here too: an upper bound.
    """
    seen, total, todo = set(), 0, list(roots)
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, _SHARED):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, dict):
            todo.extend(obj.keys())
            todo.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            todo.extend(obj)
        else:
            if hasattr(obj, "__dict__"):
                todo.append(vars(obj))
            for cls in type(obj).__mro__:
                for slot in getattr(cls, "__slots__", ()):
                    if hasattr(obj, slot):
                        todo.append(getattr(obj, slot))
    return total


class CallbackModule(fleet_report.CallbackModule):
    CALLBACK_NAME = "fleet_report_probe"

    def v2_playbook_on_stats(self, stats):
        started = time.perf_counter()
        held = deep_size([getattr(self, name) for name in HELD])
        measured = {
            "held_bytes": held,
            "hosts": len(self._fold.hosts),
            "scanned_hosts": sum(1 for host in self._fold.hosts.values() if host.scan),
            "measure_s": round(time.perf_counter() - started, 4),
            # Which copy of the collection ran: the benchmark may run an exported commit.
            "callback_file": fleet_report.__file__,
        }
        target = os.environ.get("AVSHIFT_BENCH_PROBE")
        if target:
            with open(target, "w") as stream:
                json.dump(measured, stream)
        super().v2_playbook_on_stats(stats)
