"""Offline stand-in for the get-pip.py that ansible-test downloads into its cache.

ansible-test bootstraps pip into each of its virtual environments by running
~/.ansible/test/cache/get_pip_<pip version>.py, fetched from ci-files.testing.ansible.com
unless a file of that name is already there. That host is not reachable from every
machine; PyPI is. This script does the same job from what is at hand: the interpreter's
own ensurepip puts a pip in place, and that pip installs the packages ansible-test asked
for (the pinned pip among them) from the configured index.
"""

from __future__ import annotations

import os
import subprocess
import sys

# get-pip.py options that "pip install" does not know.
GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def main() -> int:
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], check=True)
    argv = [sys.executable, "-m", "pip", "install"]
    # ansible-test runs pip with PIP_CONFIG_FILE=/dev/null, which drops a CA bundle set in
    # pip.conf; hand pip the system bundle unless the environment names one.
    if not os.environ.get("PIP_CERT") and os.path.exists(SYSTEM_CA_BUNDLE):
        argv += ["--cert", SYSTEM_CA_BUNDLE]
    argv += [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    return subprocess.run(argv, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
