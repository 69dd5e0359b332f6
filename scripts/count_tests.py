#!/usr/bin/python3
"""Counts test cases in meson's JUnit logs.

Usage: count_tests.py LABEL=build/meson-logs/testlog.junit.xml ...

GoogleTest programs (protocol gtest) contribute one result per test case;
other tests one result each. Prints a line per failed or skipped case, then
the totals as "PASSED FAILED SKIPPED" on the last line.
"""
import sys
import xml.etree.ElementTree as ET


def main() -> int:
    passed = failed = skipped = 0
    for arg in sys.argv[1:]:
        label, _, path = arg.partition("=")
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as e:
            print(f"[{label}] cannot read {path}: {e}")
            failed += 1
            continue
        for suite in root.iter("testsuite"):
            cases = suite.findall("testcase")
            # meson writes one suite per test program; for gtest programs the
            # suite's cases are the program's own test cases.
            for case in cases:
                name = f"{suite.get('name')}.{case.get('name')}"
                if case.find("failure") is not None or case.find("error") is not None:
                    failed += 1
                    print(f"[{label}] FAILED  {name}")
                elif case.find("skipped") is not None:
                    skipped += 1
                    msg = case.find("skipped").get("message") or ""
                    print(f"[{label}] SKIPPED {name} {msg}".rstrip())
                else:
                    passed += 1
    print(passed, failed, skipped)
    return 0


if __name__ == "__main__":
    sys.exit(main())
