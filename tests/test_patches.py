"""The unified-diff applier of bug patches: both header styles, exact context, loud refusals."""
import pytest

from grader import patches
from grader.patches import PatchError

REFERENCE = """\
import threading


class Tally:
    def __init__(self):
        self._lock = threading.Lock()
        self._value = 0

    def add(self, n=1):
        with self._lock:
            self._value += n
"""

BUGGY = REFERENCE.replace("self._value += n", "self._value += 1")

# As `diff -u solutions/tally/tally.py /tmp/tally.py` writes it: timestamps, no a/ b/ prefixes.
DIFF_U = """\
--- solutions/tally/tally.py	2026-12-04 22:24:36.869332033 +0000
+++ /tmp/tally.py	2026-12-04 22:24:36.869332033 +0000
@@ -8,4 +8,4 @@

     def add(self, n=1):
         with self._lock:
-            self._value += n
+            self._value += 1
"""

# As `git diff` writes it: a diff --git line, an index line, a/ b/ prefixes, the enclosing class after @@.
GIT_DIFF = """\
diff --git a/solutions/tally/tally.py b/solutions/tally/tally.py
index b99d933..cdb6f35 100644
--- a/solutions/tally/tally.py
+++ b/solutions/tally/tally.py
@@ -8,4 +8,4 @@ class Tally:
 
     def add(self, n=1):
         with self._lock:
-            self._value += n
+            self._value += 1
"""


def apply(diff, text=REFERENCE):
    return patches.apply(patches.parse(diff), text, "solutions/tally/tally.py")


def test_applies_diff_u_and_git_diff_output():
    assert apply(DIFF_U) == BUGGY  # its blank context line lost its space, as some editors do
    assert apply(GIT_DIFF) == BUGGY
    assert patches.parse(DIFF_U).old_name == "solutions/tally/tally.py"
    assert patches.parse(GIT_DIFF).old_name == "solutions/tally/tally.py"


def test_split_keeps_the_text_above_the_diff():
    text = "add(n) always adds 1.\n\nCaught by: adds_amount\n\n" + GIT_DIFF
    assert patches.split(text) == ("add(n) always adds 1.\n\nCaught by: adds_amount\n\n", GIT_DIFF)
    assert patches.split("what is wrong\n" + DIFF_U) == ("what is wrong\n", DIFF_U)
    with pytest.raises(PatchError) as info:
        patches.split("what is wrong\n\nCaught by: adds_amount\n")
    assert str(info.value) == "no diff in it (a '--- file' line, then '+++ file', then '@@' hunks)"


def test_a_hunk_applies_where_its_lines_match_exactly_when_lines_were_added_above():
    moved = '"""A tally."""\n' + REFERENCE
    assert apply(GIT_DIFF, moved) == '"""A tally."""\n' + BUGGY


def test_a_hunk_whose_context_changed_is_refused_naming_hunk_and_line():
    changed = REFERENCE.replace("with self._lock:", "with self._lock:  # guards _value")
    with pytest.raises(PatchError) as info:
        apply(GIT_DIFF, changed)
    assert str(info.value) == (
        "hunk 1 of 1 (@@ -8,4 +8,4 @@) does not apply to solutions/tally/tally.py: at line 10 the patch expects "
        "'        with self._lock:', the file has '        with self._lock:  # guards _value'; "
        "its 4 old lines match nowhere else")


def test_a_hunk_that_matches_in_two_other_places_is_refused():
    twice = "\n" + REFERENCE + REFERENCE.split("\n", 3)[3]  # the class twice, both away from line 8
    with pytest.raises(PatchError) as info:
        apply(GIT_DIFF, twice)
    assert str(info.value) == (
        "hunk 1 of 1 (@@ -8,4 +8,4 @@) does not apply to solutions/tally/tally.py: at line 8 the patch expects "
        "'', the file has '        self._value = 0'; its 4 old lines match at lines 9, 17, so where it goes is ambiguous")


def test_a_file_shorter_than_the_hunk_is_refused():
    with pytest.raises(PatchError) as info:
        apply(GIT_DIFF, "import threading\n")
    assert str(info.value) == (
        "hunk 1 of 1 (@@ -8,4 +8,4 @@) does not apply to solutions/tally/tally.py: at line 8 the patch expects "
        "'', the file has the end of the file; its 4 old lines match nowhere else")


def test_no_newline_at_end_of_file():
    diff = ("--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n a = 1\n-b = 2\n+b = 3\n\\ No newline at end of file\n")
    assert apply(diff, "a = 1\nb = 2\n") == "a = 1\nb = 3"


def test_several_hunks_and_a_pure_insertion():
    text = "".join(f"line {i}\n" for i in range(1, 11))
    diff = ("--- a/x.py\n+++ b/x.py\n"
            "@@ -0,0 +1 @@\n+first\n"
            "@@ -5,3 +6,3 @@\n line 5\n-line 6\n+LINE 6\n line 7\n")
    assert apply(diff, text) == "first\n" + text.replace("line 6\n", "LINE 6\n")


@pytest.mark.parametrize("diff, message", [
    ("--- a/x.py\n+++ b/x.py\n", "the diff has no hunks ('@@ -start,count +start,count @@')"),
    ("--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n+d\n",
     "hunk 1 (@@ -1,2 +1,2 @@): diff line 7 '+d' does not fit the header's counts (2 old, 2 new lines)"),
    ("--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n a\n-b\n+c\n",
     "hunk 1 (@@ -1,3 +1,3 @@): the diff ends after 2 of its 3 old and 2 of its 3 new lines"),
    ("--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n--- a/y.py\n+++ b/y.py\n",
     "diff line 6: a second file; a bug patch changes the reference only"),
    ("--- a/x.py\n+++ b/x.py\nsome words\n",
     "diff line 3: expected a hunk header '@@ -start,count +start,count @@', not 'some words'"),
    ("--- /dev/null\n+++ b/x.py\n@@ -0,0 +1 @@\n+a\n", "the diff creates a file; a bug patch changes the reference"),
    ("diff --git a/x.py b/x.py\nnew file mode 100644\n--- a/x.py\n+++ b/x.py\n",
     "diff line 2: 'new file mode 100644' is not a change of text lines"),
])
def test_a_malformed_diff_is_refused(diff, message):
    with pytest.raises(PatchError) as info:
        patches.parse(diff)
    assert str(info.value) == message
