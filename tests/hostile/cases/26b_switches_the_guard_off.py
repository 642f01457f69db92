"""Switch the guard in the process off (builtins.__import__ is its bound method: its __self__ is the guard, whose
busy set makes its audit hook return early), then do what it refused: read the reference, write outside the
scratch folder, start /bin/sh. Only the OS sandbox is left."""
import builtins
import os
import subprocess
import sys
import threading

guard = builtins.__import__.__self__
guard._busy.add(threading.get_ident())
grader = os.path.realpath(next(os.path.join(entry, "grader") for entry in sys.path
                                if os.path.isdir(os.path.join(entry, "grader"))))
reference = os.path.join(os.path.dirname(grader), "tests/fixtures/root/solutions/tally/tally.py")
seen = {}
try:
    seen["reference"] = open(reference).read()
except OSError as exc:
    seen["reference"] = exc.strerror
for target in ("/tmp/cd-hostile-26b", os.path.join(grader, "cd-hostile-26b.py")):
    try:
        open(target, "w").write("x")
        seen[target] = "written"
    except OSError as exc:
        seen[target] = exc.strerror
shell = subprocess.run(["/bin/sh", "-c", f"id -u; cat {reference}; echo x > /tmp/cd-hostile-26b-shell; "
                                         "echo x > /var/tmp/cd-hostile-26b-shell"], capture_output=True, text=True)
seen["shell"] = shell.stdout + shell.stderr
print(seen)
guard._busy.discard(threading.get_ident())

if "class Tally" in seen["reference"] + seen["shell"]:
    exec(seen["reference"])  # full marks, had the kernel let it be read
else:
    class Tally:
        value = 0

        def add(self, n=1):
            pass
