"""Combine the shards of a class graded with `grader grade --shard I/N` into the gradebook and reports of one run.

Each shard folder holds its reports, signed with its own key (`<shard>/.grader-key`, made on the machine that
graded it), and shard.json, its signed manifest. The merge trusts a shard's files only if their HMACs match that
shard's key; it checks that the manifests are the n shares of one class (the same problems, students and format,
each share once) and that every shard saw the same submissions (the same files, the same sha256), takes each
grading from the shard that owned it, and writes the result signed with the output folder's key (made if missing).
What it writes equals, byte for byte, what one `grader grade` run of the same gradings writes, but for the HMACs,
which depend on the key: copy that run's .grader-key into the output folder first and they are equal too.
"""
from __future__ import annotations

import copy
import hmac
import json
from dataclasses import dataclass
from pathlib import Path

from grader import batch, report
from grader.catalog import GraderError

__all__ = ["Merged", "merge"]


@dataclass
class Merged:
    """What merge() wrote: the students, the problems, and the number of shards."""

    students: list[str]
    problems: list[str]
    shards: int


def _signed(path: Path, key: bytes, shard: Path) -> dict:
    """The JSON file at `path`, if its HMAC says the grader of `shard` wrote it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GraderError(f"{shard} has no {path.relative_to(shard).as_posix()}") from None
    except (OSError, ValueError) as exc:
        raise GraderError(f"{path} could not be read ({exc})") from None
    if not isinstance(data, dict) or not hmac.compare_digest(str(data.get("hmac", "")), batch._mac(key, data)):
        raise GraderError(f"{path} was not written by the grader of {shard} (its HMAC does not match {shard}/"
                          f"{batch.KEY_FILE})")
    return {k: v for k, v in data.items() if k != "hmac"}


def _manifests(folders: list[Path]) -> list[tuple[Path, bytes, dict]]:
    """(folder, key, manifest) of each shard, ordered by share; raises GraderError unless they are the n shares
    of one class."""
    shards = []
    for folder in folders:
        if not (folder / batch.MANIFEST).is_file():
            raise GraderError(f"{folder} is not the output of grader grade --shard (no {batch.MANIFEST})")
        key_file = folder / batch.KEY_FILE
        if not key_file.is_file():
            raise GraderError(f"{folder} has no {batch.KEY_FILE}, so its reports cannot be trusted")
        key = batch.read_key(key_file)
        shards.append((folder, key, _signed(folder / batch.MANIFEST, key, folder)))
    first = shards[0][2]
    for folder, _, manifest in shards[1:]:
        for field in ("problems", "students", "format", "base_seed"):
            if manifest.get(field) != first.get(field):
                raise GraderError(f"{folder} and {shards[0][0]} are shards of different runs (they differ in {field}): "
                                  "grade every shard from the same submissions with the same options")
    try:
        shares = [batch.parse_shard(m["shard"]) for _, _, m in shards]
    except (GraderError, KeyError) as exc:
        raise GraderError(f"a manifest does not say which shard it is ({exc})") from None
    total = shares[0][1]
    if any(n != total for _, n in shares):
        raise GraderError("the shards were not all cut in the same number of shares: "
                          + ", ".join(f"{folder} is {i}/{n}" for (folder, _, _), (i, n) in zip(shards, shares)))
    seen = {}
    for (folder, _, _), (i, _) in zip(shards, shares):
        if i in seen:
            raise GraderError(f"{seen[i]} and {folder} are both shard {i}/{total}")
        seen[i] = folder
    missing = [f"{i}/{total}" for i in range(1, total + 1) if i not in seen]
    if missing:
        raise GraderError(f"shard {', '.join(missing)} is missing: merge all {total} shards")
    return [shard for _, shard in sorted(zip(shares, shards))]


def _out_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise GraderError(f"{out} is a file; merge into a new folder")
    if out.exists() and any(p.name != batch.KEY_FILE for p in out.iterdir()):
        raise GraderError(f"{out} is not empty; merge into a new folder (it may hold only {batch.KEY_FILE})")


def merge(folders: list[Path], out: Path) -> Merged:
    """Merge the shard folders into `out`: gradebook.csv, gradebook.ods and reports/, as one run writes them."""
    if not folders:
        raise GraderError("name the shard folders to merge (the --out folders of grader grade --shard I/N)")
    folders = [Path(folder) for folder in dict.fromkeys(folders)]
    for folder in folders:
        if not folder.is_dir():
            raise GraderError(f"no such folder: {folder}")
    out = Path(out)
    _out_folder(out)
    shards = _manifests(folders)
    first = shards[0][2]
    problems = [(slug, most) for slug, most in first["problems"]]
    owner = {}
    for folder, _, manifest in shards:
        for student, slug in manifest["gradings"]:
            owner[(student, slug)] = folder
    merged = {}
    for student in first["students"]:
        copies = [(folder, _signed(folder / "reports" / f"{student}.json", key, folder)) for folder, key, _ in shards]
        merged[student] = _combine(student, copies, owner, [slug for slug, _ in problems])
    key = batch._key(out)
    fmt = first["format"]
    suffix, render = batch.FORMATS[fmt]
    for student, data in merged.items():
        batch._write(out / "reports" / f"{student}.json",
                     json.dumps({**data, "hmac": batch._mac(key, data)}, indent=2) + "\n")
        if render:
            reports = [report.from_json(data["problems"][slug]["report"]) for slug, _ in problems]
            batch._write(out / "reports" / f"{student}{suffix}", render(reports, batch.notes_of(data["ignored"])))
    batch.write_gradebook(out, problems, [
        (student, [data["problems"][slug]["report"]["score"] for slug, _ in problems]) for student, data in merged.items()])
    return Merged(list(merged), [slug for slug, _ in problems], len(shards))


def _without_reports(data: dict) -> dict:
    """A student's report less what differs between shards: the gradings, and the score they add up to."""
    rest = copy.deepcopy(data)
    rest.pop("score", None)
    for entry in rest.get("problems", {}).values():
        entry.pop("report", None)
    return rest


def _combine(student: str, copies: list[tuple[Path, dict]], owner: dict, slugs: list[str]) -> dict:
    """One student's report from each shard's copy: each grading from the shard that owned it, each problem with
    no file from the first shard (every shard writes it, the same)."""
    first_folder, first = copies[0]
    for folder, data in copies[1:]:
        if _without_reports(data) != _without_reports(first):
            raise GraderError(f"{folder} and {first_folder} saw different submissions of {student}: grade every "
                              "shard from the same submissions folder")
    combined = copy.deepcopy(first)
    try:
        for slug in slugs:
            entry = combined["problems"][slug]
            source = owner.get((student, slug))
            if source is None:  # no file: not a grading
                reports = {json.dumps(data["problems"][slug].get("report"), sort_keys=True) for _, data in copies}
                if len(reports) != 1 or "report" not in entry:
                    raise GraderError(f"the shards disagree on {student}'s {slug}, which has no file: grade every "
                                      "shard with the same grader and problems")
                continue
            graded = dict(copies)[source]["problems"][slug]
            if "report" not in graded:
                raise GraderError(f"{source} has not graded {student}'s {slug} yet: run that shard's grader grade "
                                  "again with --resume")
            entry["report"] = graded["report"]
        combined["score"] = sum(combined["problems"][slug]["report"]["score"] for slug in slugs)
    except (KeyError, TypeError) as exc:
        raise GraderError(f"{first_folder}/reports/{student}.json is not a report of this grader ({exc})") from None
    return combined
