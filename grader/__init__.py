"""concurrency-drills: concurrency exercises and a grader that finds their bugs every time."""
