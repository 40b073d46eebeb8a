"""`make bench`: run every bench/bench_*.py and print one table of figures against the issues' targets.

Each module has `run(work: Path) -> list[dict]` returning rows of
{"figure": str, "value": float, "unit": str, "target": str, "ok": bool | None}.
Figures are measured, never asserted: a missed target shows as "miss", it does not fail the run.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(only: list[str]) -> None:
    work = HERE / ".work"
    rows = []
    for path in sorted(HERE.glob("bench_*.py")):
        if only and not any(o in path.stem for o in only):
            continue
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        print(f"running {path.name}…", file=sys.stderr, flush=True)
        try:
            spec.loader.exec_module(module)
            rows += module.run(work)
        except Exception:
            traceback.print_exc()
            rows.append({"figure": f"{path.stem}: FAILED", "value": float("nan"), "unit": "", "target": "", "ok": False})
    shutil.rmtree(work, ignore_errors=True)
    width = max([len(r["figure"]) for r in rows] + [6])
    print(f"\n{'figure'.ljust(width)}  {'value':>12}  {'unit':<8}  {'target':<12}  result")
    print("-" * (width + 46))
    for r in rows:
        verdict = {True: "ok", False: "miss", None: ""}[r.get("ok")]
        print(f"{r['figure'].ljust(width)}  {r['value']:>12.3f}  {r['unit']:<8}  {r['target']:<12}  {verdict}")


if __name__ == "__main__":
    main(sys.argv[1:])
