"""Write a results.json that says the grader could not grade, when `grader test` itself failed (exit status 2 or
more, or no file): python3 grading_fallback.py PLATFORM STATUS LOG RESULTS. The reason is the last line of the
grader's stderr (LOG), e.g. `Error: no OS sandbox here ...`."""
import json
import sys

platform, status, log, results = sys.argv[1:5]
try:
    with open(log, encoding="utf-8", errors="replace") as file:
        reason = (file.read().strip().splitlines() or [""])[-1]
except OSError:
    reason = ""
text = f"The grader could not grade this submission (exit status {status}). Please tell your instructor."
if reason:
    text += f"\n{reason}"
if platform == "exercism":
    data = {"version": 2, "status": "error", "message": text}
else:  # prairielearn: not gradable, so that no attempt is taken
    data = {"gradable": False, "message": text, "format_errors": [text]}
with open(results, "w", encoding="utf-8") as file:
    json.dump(data, file, indent=2)
    file.write("\n")
