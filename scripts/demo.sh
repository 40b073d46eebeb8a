#!/bin/sh
# The demo runs the main job end to end on a home of its own (./demo-home unless OHRT_HOME is set).
exec .venv/bin/python scripts/demo.py "$@"
