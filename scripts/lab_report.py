#!/usr/bin/env python3
"""The per-check summary `scripts/lab.sh NN` prints after running a chapter's checks.

Reads what the run left in REPORTS: ctest's JUnit file (ctest.xml: one entry per ctest test, e.g.
ch03_checks.forward, ch03_checks.random, ch03_lab_verify_layernorm.forward) and GoogleTest's JSON
report of each run (<ctest test>.json: one entry per check). A check is the same GoogleTest test
under every emulator schedule; it is

  PASS  when it passed under every schedule,
  TODO  when it failed saying "not implemented" (the starter code, still untouched there),
  FAIL  otherwise, shown with the first message (the oracle's report leads it: the output, the
        first bad index, the values) and a hint at the likely bug.

Exit code: 0 when every check passed, 1 otherwise.
"""

import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

NOT_IMPLEMENTED = re.compile(r"not implemented")


@dataclass
class Check:
    """One check (a GoogleTest test, or a ctest test without a GoogleTest report)."""

    name: str
    passed_in: list = field(default_factory=list)  # schedules it passed under
    failed_in: list = field(default_factory=list)  # schedules it failed under
    messages: list = field(default_factory=list)  # failure messages, first first

    def status(self) -> str:
        if not self.failed_in:
            return "PASS"
        if any(NOT_IMPLEMENTED.search(m) for m in self.messages):
            return "TODO"
        return "FAIL"


def schedule_of(ctest_name: str) -> tuple:
    """'ch03_checks.random' -> ('ch03_checks', 'random'); a test without a schedule -> (name, '')."""
    stem, _, schedule = ctest_name.rpartition(".")
    if stem and schedule in ("forward", "reverse", "random"):
        return stem, schedule
    return ctest_name, ""


def utf8(text: str) -> str:
    """GoogleTest's JSON writes each byte of a UTF-8 message as its own code point (\\u00e2…)."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def first_lines(text: str, n: int = 4) -> str:
    """The failure without GoogleTest's file:line and 'Failed' lines, at most n lines."""
    text = utf8(text)
    lines = [l for l in text.splitlines() if l.strip() and not re.match(r"^\S+:\d+$|^Failed$", l)]
    lines = [re.sub(r"^\S+\.\w+:\d+: (Failure)?", "", l) for l in lines]
    return "\n".join(l for l in lines[:n] if l.strip())


def hint(check: Check) -> str:
    """The likely bug, guessed from how the check failed."""
    text = "\n".join(check.messages)
    if check.passed_in and check.failed_in:
        return ("passes under " + ", ".join(check.passed_in) + " but fails under " +
                ", ".join(check.failed_in) + ": the result depends on the order threads run in — "
                "a missing __syncthreads() between writing shared memory and reading it, or "
                "threads racing on the same element")
    if re.search(r"bitwise|bit for bit|rerun", text, re.I):
        return ("two runs of the same input disagree bit for bit: an accumulation whose order "
                "changes from run to run (a float atomicAdd, or several blocks adding to one "
                "element) — give each element one writer, or reduce partials in a fixed order")
    if "llmlab emu:" in text:
        return "the emulator stopped a kernel: its report above names the kernel, block and thread"
    if re.search(r"\bnan\b", text, re.I):
        return ("a NaN: a value nobody wrote (shared memory read before it is filled, an element "
                "past the last thread), or 0/0 (e.g. dividing by C - 1 when C = 1)")
    if re.search(r"wrote|guard|past the end|out of bounds", text, re.I):
        return "a write outside the buffer: check the bound (i < n, not i <= n) of every store"
    if "first bad index" in text:
        return ("the first bad index is the first element your kernel gets wrong: wrong from the "
                "start → the formula (compare with the handout's equations); wrong only at the end "
                "→ a bound or the last partial tile/row; wrong in some rows → the row a block "
                "works on")
    if re.search(r"returned|error \d+|invalid", text):
        return "the launcher returned an error: the message says which argument or launch failed"
    return "read the message: it names the output and the case"


def load(reports: Path) -> list:
    """Every check of the run, in the order the reports list them."""
    checks: dict = {}

    def check(name: str) -> Check:
        return checks.setdefault(name, Check(name))

    junit = reports / "ctest.xml"
    if not junit.exists():
        return []
    for case in ET.parse(junit).getroot().iter("testcase"):
        ctest_name = case.get("name", "")
        stem, schedule = schedule_of(ctest_name)
        failed = case.get("status") == "fail" or case.find("failure") is not None
        gtest = reports / f"{ctest_name}.json"
        if gtest.exists():
            for suite in json.loads(gtest.read_text(encoding="utf-8", errors="replace")).get("testsuites", []):
                for test in suite.get("testsuite", []):
                    if test.get("result") == "SKIPPED" or test.get("status") == "NOTRUN":
                        continue
                    c = check(f"{suite['name']}.{test['name']}")
                    failures = test.get("failures", [])
                    (c.failed_in if failures else c.passed_in).append(schedule or ctest_name)
                    c.messages += [first_lines(f.get("failure", "")) for f in failures]
            continue
        # No GoogleTest report: a crash before it was written, or another program (llmlab verify).
        c = check(stem)
        if failed:
            c.failed_in.append(schedule or ctest_name)
            lines = [l for l in (case.findtext("system-out") or "").splitlines() if l.strip()]
            todo = [l for l in lines if NOT_IMPLEMENTED.search(l)]
            shown = todo[:1] or [l for l in lines if "FAIL" in l or "llmlab emu:" in l][:3] or lines[-6:]
            c.messages.append("\n".join(shown) or "failed without output (a crash?)")
        else:
            c.passed_in.append(schedule or ctest_name)
    return list(checks.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", required=True)
    parser.add_argument("--folder", required=True)
    parser.add_argument("--reports", required=True, type=Path)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()

    checks = load(args.reports)
    if not checks:
        print(f"lab.sh: no check ran — see {args.log}", file=sys.stderr)
        return 1
    counts = {"PASS": 0, "FAIL": 0, "TODO": 0}
    first_fail = first_todo = None
    print(f"\nChapter {args.chapter}: your lab ({args.folder}/lab), checked under every schedule\n")
    for c in checks:
        status = c.status()
        counts[status] += 1
        print(f"  {status}  {c.name}")
        if status == "FAIL":
            first_fail = first_fail or c
            where = ", ".join(c.failed_in)
            print("        " + c.messages[0].replace("\n", "\n        ") + f"\n        (fails under: {where})")
            print("        hint: " + hint(c))
        elif status == "TODO":
            first_todo = first_todo or c
    print(f"\n{counts['PASS']} passed, {counts['FAIL']} failed, {counts['TODO']} not implemented yet.")
    if first_fail:
        print(f"Next: fix {first_fail.name} first (the first failure above), then run "
              f"scripts/lab.sh {args.chapter} again.")
    elif first_todo:
        message = next(m for m in first_todo.messages if NOT_IMPLEMENTED.search(m))
        said = message[NOT_IMPLEMENTED.search(message).start():].splitlines()[0]
        said = re.sub(r'" thrown in the test body\.?$', "", said)  # GoogleTest's wrapping
        print(f"Next: {first_todo.name} says: {said}")
    else:
        print("Every check passes. Next: the handout's \"After the lab\" section.")
    return 0 if counts["PASS"] == len(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
