#!/usr/bin/env python3
"""Lengths of the Rust functions under a folder (default `src/`): median, p90 and max.

A function's length is its lines from the `fn` line to its closing brace, both counted. Braces
are matched on the source with comments, strings and character literals blanked out. Functions
inside a `#[cfg(test)]` module (inline or a file declared that way) or marked `#[test]` are
tests and are reported apart. Declarations without a body (trait methods) are not functions
here.

    scripts/function_lengths.py [FOLDER] [--top N] [--json]
"""

import argparse
import json
import re
import statistics
import sys
from pathlib import Path


def blank(source: str) -> str:
    """The source with comments, strings and char literals replaced by spaces (newlines kept)."""
    out = []
    i, n = 0, len(source)

    def keep_newlines(text: str) -> str:
        return "".join("\n" if c == "\n" else " " for c in text)

    while i < n:
        c = source[i]
        if source.startswith("//", i):
            end = source.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif source.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if source.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif source.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(keep_newlines(source[i:j]))
            i = j
        elif (m := re.compile(r'b?r(#*)"').match(source, i)) and (
            i == 0 or not (source[i - 1].isalnum() or source[i - 1] == "_")
        ):
            closing = '"' + m.group(1)
            end = source.find(closing, m.end())
            end = n if end < 0 else end + len(closing)
            out.append(keep_newlines(source[i:end]))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and source[j] != '"':
                j += 2 if source[j] == "\\" else 1
            out.append(keep_newlines(source[i : j + 1]))
            i = j + 1
        elif c == "'":
            # A char literal ('x', '\n', '\u{..}') or a lifetime ('a): only the first is blanked.
            m = re.compile(r"'(\\.[^']*|[^'\\])'").match(source, i)
            if m:
                out.append(" " * (m.end() - i))
                i = m.end()
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


FN = re.compile(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)")
TEST_MOD = re.compile(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*([{;])")
TEST_ATTR = re.compile(r"#\[(?:[a-z_]+::)?test\]\s*(?:#\[[^\]]*\]\s*)*(?:pub\s+)?(?:async\s+)?fn\s*$")


def closing_brace(text: str, open_at: int) -> int:
    depth = 0
    for j in range(open_at, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(text) - 1


def functions(path: Path, whole_file_is_test: bool):
    """(name, first line, lines, is_test) of every function with a body in `path`."""
    text = blank(path.read_text(encoding="utf-8"))
    test_spans = []
    for m in TEST_MOD.finditer(text):
        if m.group(2) == "{":
            start = m.end() - 1
            test_spans.append((start, closing_brace(text, start)))
    line_of = lambda offset: text.count("\n", 0, offset) + 1
    found = []
    for m in FN.finditer(text):
        depth, j = 0, m.end()
        while j < len(text):
            c = text[j]
            if c in "([<":
                depth += 1
            elif c in ")]>" and not (c == ">" and text[j - 1] == "-"):
                depth -= 1
            elif depth <= 0 and c in "{;":
                break
            j += 1
        if j >= len(text) or text[j] == ";":
            continue
        end = closing_brace(text, j)
        first, last = line_of(m.start()), line_of(end)
        before = text[max(0, m.start() - 300) : m.start() + 2]
        is_test = (
            whole_file_is_test
            or any(a <= m.start() <= b for a, b in test_spans)
            or bool(TEST_ATTR.search(before))
        )
        found.append((m.group(1), first, last - first + 1, is_test))
    return found


def test_files(root: Path) -> set:
    """Files declared by `#[cfg(test)] mod name;`."""
    declared = set()
    for path in root.rglob("*.rs"):
        for m in TEST_MOD.finditer(blank(path.read_text(encoding="utf-8"))):
            if m.group(2) == ";":
                folder = path.parent if path.name in ("mod.rs", "lib.rs", "main.rs") else path.with_suffix("")
                for candidate in (folder / f"{m.group(1)}.rs", folder / m.group(1) / "mod.rs"):
                    declared.add(candidate.resolve())
    return declared


def figures(lengths):
    if not lengths:
        return {"functions": 0}
    ordered = sorted(lengths)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return {
        "functions": len(ordered),
        "median": statistics.median(ordered),
        "p90": p90,
        "max": ordered[-1],
        "over_30": sum(1 for x in ordered if x > 30),
        "over_60": sum(1 for x in ordered if x > 60),
        "over_80": sum(1 for x in ordered if x > 80),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default="src")
    parser.add_argument("--top", type=int, default=10, help="list the N longest functions")
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    root = Path(arguments.folder)
    tests = test_files(root)
    rows = []
    for path in sorted(root.rglob("*.rs")):
        for name, line, length, is_test in functions(path, path.resolve() in tests):
            rows.append((str(path), name, line, length, is_test))
    code = [r for r in rows if not r[4]]
    report = {
        "folder": str(root),
        "code": figures([r[3] for r in code]),
        "tests": figures([r[3] for r in rows if r[4]]),
        "longest": [
            {"function": f"{p}:{line} {name}", "lines": length}
            for p, name, line, length, _ in sorted(code, key=lambda r: -r[3])[: arguments.top]
        ],
    }
    if arguments.json:
        json.dump(report, sys.stdout, indent=2)
        print()
        return 0
    for kind in ("code", "tests"):
        f = report[kind]
        if f["functions"]:
            print(
                f"{kind:<5} {f['functions']:>5} functions  median {f['median']:g}  p90 {f['p90']}  "
                f"max {f['max']}  (over 30: {f['over_30']}, over 60: {f['over_60']}, over 80: {f['over_80']})"
            )
    print(f"longest (not tests):")
    for row in report["longest"]:
        print(f"  {row['lines']:>5}  {row['function']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
