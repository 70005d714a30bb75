#!/usr/bin/env python3
"""Counts the tests in Maven's surefire reports and fails on any skip that is not allowed.

Usage: scripts/check_skips.py [--allow FILE] REPORT_DIR...

Each REPORT_DIR is a target/surefire-reports folder (TEST-*.xml). A skipped test (a failed JUnit
assumption, e.g. "../shared not present" or "python3-torch not installed") passes Maven's build, so
without this check a CI machine that lacks the data or PyTorch would pass while testing much less.
FILE lists the skips that are allowed, one per line: "<class>#<method>  <reason>"; '#' at the start
of a line begins a comment. Exit status: 0 when every skip is allowed, 1 otherwise, 2 when there are
no reports (the tests did not run).
"""
import argparse
import glob
import os
import sys
import xml.etree.ElementTree as ET


def read_allowed(path):
    allowed = {}
    if path is None:
        return allowed
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            if "#" not in parts[0] or len(parts) < 2:
                sys.exit(f"{path}:{number}: expected '<class>#<method>  <reason>', found '{line}'")
            allowed[parts[0]] = parts[1]
    return allowed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--allow", help="file of allowed skips: '<class>#<method>  <reason>' per line")
    ap.add_argument("dirs", nargs="+", help="surefire-reports folders")
    args = ap.parse_args(argv)
    allowed = read_allowed(args.allow)

    total = 0
    skipped = []
    reports = 0
    for folder in args.dirs:
        for report in sorted(glob.glob(os.path.join(folder, "TEST-*.xml"))):
            reports += 1
            for case in ET.parse(report).getroot().iter("testcase"):
                total += 1
                skip = case.find("skipped")
                if skip is not None:
                    name = case.get("classname", "?") + "#" + case.get("name", "?").split("(")[0]
                    text = (skip.text or "").strip().splitlines()
                    skipped.append((name, skip.get("message") or (text[0] if text else "no reason given")))
    if reports == 0:
        print("check_skips: no surefire reports (TEST-*.xml) in " + ", ".join(args.dirs), file=sys.stderr)
        return 2

    unexpected = [(name, why) for name, why in skipped if name not in allowed]
    print(f"check_skips: {total} tests in {reports} reports, {len(skipped)} skipped"
          f" ({len(skipped) - len(unexpected)} allowed)")
    for name, why in skipped:
        if name in allowed:
            print(f"  allowed skip: {name} ({allowed[name]})")
    for name, why in unexpected:
        print(f"  NOT ALLOWED: {name} was skipped: {why}", file=sys.stderr)
    if unexpected:
        print("check_skips: a test was skipped that CI must run; install what it needs (the reason above says"
              " what) or, if it cannot run here, add it with a reason to the allow-list", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
