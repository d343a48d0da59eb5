"""The pytest plugin's Given steps without the command line: copy, find, set, remove, line lookup.

    python bench/bench_plugin_edits.py              # 20 scenarios on each reference
    python bench/bench_plugin_edits.py --repeat 50

Each scenario copies a reference, names two resources as a user would, sets two
arguments (one in a nested block), removes one and looks a line up: what the
Given and Then steps of a feature file do before and after the run itself. The
first scenario parses every file ("first"); later ones find the unchanged files'
trees already parsed ("next", the median). CPU time is the process's own.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from validator.pytest_plugin import TerraformCopy  # noqa: E402

EDITS = {
    "terraform": ("modules/aurora/aurora.tf", "the aurora instance", "publicly_accessible"),
    "terraform-bedrock": (
        "modules/aurora/aurora.tf",
        "the knowledge base",
        "storage_configuration.rds_configuration.field_mapping.metadata_field",
    ),
}


def scenario(reference: str, work: Path) -> None:
    file, other, removed = EDITS[reference]
    c = TerraformCopy(REPO / "reference" / reference, work)
    cluster = c.find("the aurora cluster")
    c.set(cluster, "engine_mode", '"serverless"')
    c.set(cluster, "serverlessv2_scaling_configuration.min_capacity", "1")
    c.remove(c.find(other), removed)
    assert c.line_of(file, "engine_mode", cluster)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    print(f"{'reference':<20} {'first ms':>9} {'next ms':>9} {'cpu ms/scenario':>16}")
    for reference in EDITS:
        with tempfile.TemporaryDirectory() as tmp:
            wall: list[float] = []
            cpu0 = time.process_time()
            for i in range(args.repeat):
                t0 = time.perf_counter()
                scenario(reference, Path(tmp) / str(i))
                wall.append(time.perf_counter() - t0)
            cpu = (time.process_time() - cpu0) / args.repeat
        print(f"{reference:<20} {wall[0] * 1000:>9.1f} {statistics.median(wall[1:]) * 1000:>9.1f} {cpu * 1000:>16.1f}")


if __name__ == "__main__":
    main()
