"""avshift: audit and replace disallowed antivirus across a fleet."""
