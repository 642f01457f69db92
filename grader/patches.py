"""Read and apply a unified diff of one file, as `diff -u` or `git diff` writes it, exactly or not at all.

A bug variant stored as a patch is text, then the diff: `split()` separates the two, `parse()` reads the
diff, `apply()` applies it. Each hunk must find its old lines (context and removed lines) exactly in the
file: at the line its header states, or else at the one other place after the previous hunk where they
all match. There is no fuzz: a hunk whose old lines match nowhere, or in more than one other place,
raises PatchError, and so does a diff that does not follow the format.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PatchError", "Hunk", "Patch", "lines", "split", "parse", "apply"]


class PatchError(Exception):
    """A diff that does not follow the unified format, or does not apply; the message says where."""


@dataclass(frozen=True)
class Hunk:
    """One `@@ -start,count +start,count @@` block: the file's lines it replaces, and their replacement."""

    header: str  # the @@ line, without any text after its closing @@
    old_start: int  # 1-based; for an empty old side, the line after which the new lines go
    old: tuple[str, ...]  # context and removed lines, each with its line end
    new: tuple[str, ...]  # context and added lines


@dataclass(frozen=True)
class Patch:
    old_name: str  # the patched file's name on the `---` line, without a/ and any timestamp
    hunks: tuple[Hunk, ...]


_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def lines(text: str) -> list[str]:
    """The lines of `text`, each with its "\\n" (the last one may have none). Only "\\n" ends a line."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _starts_diff(rows: list[str], i: int) -> bool:
    return rows[i].startswith("diff ") or (
        rows[i].startswith("--- ") and i + 1 < len(rows) and rows[i + 1].startswith("+++ "))


def split(text: str) -> tuple[str, str]:
    """(the text before the diff, the diff). The diff starts at the first `diff ` line, or the first
    `--- ` line followed by a `+++ ` line. Raises PatchError if there is no diff."""
    rows = lines(text)
    for i in range(len(rows)):
        if _starts_diff(rows, i):
            return "".join(rows[:i]), "".join(rows[i:])
    raise PatchError("no diff in it (a '--- file' line, then '+++ file', then '@@' hunks)")


def _name(row: str) -> str:
    name = row[4:].rstrip("\n").split("\t")[0].strip()
    return name[2:] if name.startswith(("a/", "b/")) else name


def parse(diff: str) -> Patch:
    """Read the diff of one file. Raises PatchError naming the diff's line for anything else."""
    rows = lines(diff)
    i = 0
    if rows and rows[0].startswith("diff "):  # git's header: `diff --git a/x b/x`, then `index ...` and modes
        i = 1
        while i < len(rows) and not rows[i].startswith("--- "):
            if not rows[i].startswith(("index ", "old mode ", "new mode ")):
                raise PatchError(f"diff line {i + 1}: {rows[i].rstrip()!r} is not a change of text lines")
            i += 1
    if i + 1 >= len(rows) or not (rows[i].startswith("--- ") and rows[i + 1].startswith("+++ ")):
        raise PatchError(f"diff line {i + 1}: expected the '--- file' and '+++ file' lines")
    old_name = _name(rows[i])
    if old_name == "/dev/null":
        raise PatchError("the diff creates a file; a bug patch changes the reference")
    i += 2
    hunks = []
    while i < len(rows):
        if _starts_diff(rows, i):
            raise PatchError(f"diff line {i + 1}: a second file; a bug patch changes the reference only")
        match = _HUNK.match(rows[i])
        if match is None:
            if not rows[i].strip():
                i += 1  # blank lines after the last hunk
                continue
            if hunks and rows[i][0] in " -+":
                last = hunks[-1]
                raise PatchError(f"hunk {len(hunks)} ({last.header}): diff line {i + 1} {rows[i].rstrip()!r} does not "
                                 f"fit the header's counts ({len(last.old)} old, {len(last.new)} new lines)")
            raise PatchError(f"diff line {i + 1}: expected a hunk header '@@ -start,count +start,count @@', "
                             f"not {rows[i].rstrip()!r}")
        header = match.group(0)
        old_count = int(match.group(2)) if match.group(2) is not None else 1
        new_count = int(match.group(4)) if match.group(4) is not None else 1
        old, new = [], []
        i += 1
        while len(old) < old_count or len(new) < new_count:
            if i >= len(rows):
                raise PatchError(f"hunk {len(hunks) + 1} ({header}): the diff ends after {len(old)} of its "
                                 f"{old_count} old and {len(new)} of its {new_count} new lines")
            row = rows[i]
            kind, text = (row[0], row[1:]) if row != "\n" else (" ", "\n")  # an editor may strip " \n"
            if kind == "\\":
                raise PatchError(f"diff line {i + 1}: '\\ No newline at end of file' in the middle of a hunk")
            if kind not in " -+" or (kind in " -" and len(old) == old_count) or (
                    kind in " +" and len(new) == new_count):
                raise PatchError(f"hunk {len(hunks) + 1} ({header}): diff line {i + 1} {row.rstrip()!r} does "
                                 f"not fit the header's counts ({old_count} old, {new_count} new lines)")
            if kind in " -":
                old.append(text)
            if kind in " +":
                new.append(text)
            i += 1
            if i < len(rows) and rows[i].startswith("\\"):  # `\ No newline at end of file`: the line has no "\n"
                for side in ((old,) if kind == "-" else (new,) if kind == "+" else (old, new)):
                    side[-1] = side[-1].removesuffix("\n")
                i += 1
        start = int(match.group(1))
        if old_count and start == 0:
            raise PatchError(f"hunk {len(hunks) + 1} ({header}): lines are numbered from 1")
        hunks.append(Hunk(header=header, old_start=start, old=tuple(old), new=tuple(new)))
    if not hunks:
        raise PatchError("the diff has no hunks ('@@ -start,count +start,count @@')")
    return Patch(old_name=old_name, hunks=tuple(hunks))


def _shown(line: str | None) -> str:
    return "the end of the file" if line is None else repr(line.removesuffix("\n"))


def apply(patch: Patch, text: str, target: str = "the file") -> str:
    """`text` with every hunk of `patch` applied; `target` names the file in errors.

    Raises PatchError naming the hunk and the line of `text` where it does not apply.
    """
    source = lines(text)
    out, done = [], 0  # done: how many lines of `source` are already copied to `out` or replaced
    for number, hunk in enumerate(patch.hunks, 1):
        where = f"hunk {number} of {len(patch.hunks)} ({hunk.header}) does not apply to {target}"
        at = _place(hunk, source, done, where)
        out += source[done:at]
        out += hunk.new
        done = at + len(hunk.old)
    out += source[done:]
    return "".join(out)


def _place(hunk: Hunk, source: list[str], done: int, where: str) -> int:
    """The index in `source` where the hunk's old lines are: at its stated line, else the one other match
    at or after `done`. Raises PatchError starting with `where`."""
    size = len(hunk.old)
    if not size:  # only added lines, after line old_start: nothing to match them by
        if not done <= hunk.old_start <= len(source):
            raise PatchError(f"{where}: it adds lines after line {hunk.old_start}, and the file has {len(source)} "
                             f"lines, of which the hunk above changes lines up to {done}")
        return hunk.old_start
    stated = hunk.old_start - 1
    if stated >= done and tuple(source[stated:stated + size]) == hunk.old:
        return stated
    found = [i for i in range(done, len(source) - size + 1) if tuple(source[i:i + size]) == hunk.old]
    if len(found) == 1:
        return found[0]
    elsewhere = (f"its {size} old lines match at lines {', '.join(str(i + 1) for i in found)}, so where it goes "
                 "is ambiguous" if found else f"its {size} old lines match nowhere else")
    for k, expected in enumerate(hunk.old):
        actual = source[stated + k] if stated + k < len(source) else None
        if actual != expected:
            raise PatchError(f"{where}: at line {stated + k + 1} the patch expects {_shown(expected)}, "
                             f"the file has {_shown(actual)}; {elsewhere}")
    raise PatchError(f"{where}: it starts at line {hunk.old_start}, inside the hunk above it; {elsewhere}")
