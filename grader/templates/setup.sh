#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder: a Python 3.11+ venv with the grader in it.
# AUTOGRADER_DIR replaces /autograder (to try it elsewhere).
set -euo pipefail
root="${AUTOGRADER_DIR:-/autograder}"
python=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    apt-get update
    apt-get install -y python3.11 python3.11-venv
    python=python3.11
fi
# The grader's OS sandbox (bubblewrap): where the container lets it make namespaces, each check runs in it;
# where not, the grader, as root, runs the submission as an unprivileged user of its own.
apt-get install -y bubblewrap 2>/dev/null || { apt-get update && apt-get install -y bubblewrap; } || true
"$python" -m venv "$root/venv"
"$root/venv/bin/python" -m pip install --upgrade pip
"$root/venv/bin/python" -m pip install "$root/source"
