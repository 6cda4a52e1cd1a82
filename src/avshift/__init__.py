"""avshift: audit and replace disallowed antivirus across a fleet."""

__version__ = "0.1.0"
