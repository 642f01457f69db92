"""The mutant gate on a fixed sample of each problem's mutants: every sampled mutant is killed by a check or
listed in solutions/<slug>/equivalent_mutants.toml, so a new survivor fails here. The whole set runs with
`grader check --mutants` or `python bench/mutants.py` (about 5 minutes on 2 cores; too long for every CI run)."""
from pathlib import Path

import pytest

from grader import catalog, mutants

REPO = Path(__file__).resolve().parent.parent
SAMPLE = 3  # mutants graded per problem: mutants.sample() picks the same ones while the references stay the same

# Temporary: survivors of the whole catalog's run that are real gaps in the checks, not equivalent mutants.
# To be killed by stronger checks, see issue #13 (each one's scenario is written up with it); remove an id
# here once a check kills it. They are left out of the sample, since they are known to survive.
KNOWN_GAPS = {
    "async_server": ["remove_async_lock-L70-f5e47b", "narrow_last-L80-ae3797"],
    "bank": ["remove_lock-L55-25a594"],
    "bounded_buffer": ["no_deadline-L50-e38edc", "no_deadline-L75-bbef69", "notify_one-L88-afed67"],
    "event_scheduler": ["narrow_last-L64-7d55d9", "split_section-L64-bf2a6d", "remove_lock-L69-1c8178",
                        "narrow_first-L70-8fb3fe", "split_section-L72-91f3db", "off_by_one-L88-956ab5",
                        "narrow_last-L92-5ab53d", "split_section-L92-d623e5"],
    "message_broker": ["narrow_first-L79-da6adc", "notify_one-L80-b846e6", "split_section-L104-6bb1ec",
                       "narrow_first-L122-d63de0", "notify_one-L123-966ee0", "narrow_first-L133-5c56d5",
                       "split_section-L134-d281b7", "notify_one-L136-706249", "drop_wakeup-L136-8d07e2",
                       "narrow_first-L142-b0ab66", "split_section-L144-5cf6b9", "notify_one-L145-7cdb9b"],
    "paxos": ["off_by_one-L112-9a5d38"],
    "readers_writers": ["narrow_first-L50-23250a", "split_section-L52-30cd8d", "split_section-L60-7f4926",
                        "narrow_first-L72-6e3b8d", "split_section-L74-0ebb7a", "split_section-L75-c47993"],
    "rpc": ["narrow_first-L53-5d4613", "split_section-L55-c486ba", "narrow_last-L57-bdbc03", "split_section-L57-5b02ef",
            "remove_lock-L60-6d206d", "remove_lock-L71-490b29", "narrow_first-L72-0e107c", "drop_flag_check-L72-4449aa",
            "split_section-L74-40ed52", "narrow_last-L75-7145ad", "split_section-L75-9f7ab1", "remove_lock-L90-32b0aa"],
    "thread_pool": ["split_section-L52-157fa4", "split_section-L53-74e0fc", "split_section-L77-7a4c51"],
}

PROBLEMS = catalog.load_all(REPO)


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.slug)
def test_sampled_mutants_are_killed(problem):
    listed = mutants.equivalents(problem)
    gaps = set(KNOWN_GAPS.get(problem.slug, ()))
    candidates = [m for m in mutants.generate(problem) if m.id not in listed and m.id not in gaps]
    run = mutants.check(problem, jobs=1, only=mutants.sample(candidates, SAMPLE), reference=False)
    assert {o.mutant.id: o.mutant.diff for o in run.survivors} == {}
    assert run.count("killed") == min(SAMPLE, len(candidates))


def test_equivalents_and_known_gaps_name_mutants_the_references_make():
    """An entry for a mutant that no longer exists is stale; a mutant is either a gap or equivalent, not both."""
    assert set(KNOWN_GAPS) <= {p.slug for p in PROBLEMS}
    for problem in PROBLEMS:
        made = {m.id for m in mutants.generate(problem)}
        listed, gaps = set(mutants.equivalents(problem)), set(KNOWN_GAPS.get(problem.slug, ()))
        assert (sorted(listed - made), sorted(gaps - made), sorted(listed & gaps)) == ([], [], []), problem.slug
