#!/usr/bin/env bash
# Placeholder until the test bed lands: nothing to build yet.
exit 0
