#!/usr/bin/env bash
# Exercism's test runner interface, built by `grader export exercism` for: %%problems.
#   bin/run.sh SLUG INPUT_DIR OUTPUT_DIR
# grades INPUT_DIR/<slug>.py (an Exercism slug's dashes read as underscores) and writes OUTPUT_DIR/results.json
# (version 2); it exits 0 whatever the result, as the interface asks. Students' code runs only in an OS sandbox
# (grader test --for-marks)%%unsandboxed_note. GRADER_PYTHON replaces the interpreter (to try it outside the image).
set -u
if [ "$#" -ne 3 ]; then
    echo "usage: bin/run.sh SLUG INPUT_DIR OUTPUT_DIR" >&2
    exit 2
fi
here="$(cd "$(dirname "$0")/.." && pwd)"
python="${GRADER_PYTHON:-python3}"
slug="${1//-/_}"
mkdir -p "$3" || exit 2
output="$(cd "$3" && pwd)"
input="$(cd "$2" 2>/dev/null && pwd)" || input="$2"  # a missing folder: the grader says so in results.json
results="$output/results.json"
log="$(mktemp)"
rm -f "$results"
cd "$here" || exit 2
GRADER_ROOT="$here" "$python" -m grader test "$slug" --submission "$input" --format exercism --out "$results" \
    --for-marks%%unsandboxed 2> >(tee "$log" >&2)
status=$?
wait
if [ "$status" -ge 2 ] || [ ! -s "$results" ]; then
    "$python" "$here/grader/templates/grading_fallback.py" exercism "$status" "$log" "$results" ||
        printf '{"version": 2, "status": "error", "message": "The grader could not grade this submission."}\n' > "$results"
fi
rm -f "$log"
exit 0
