"""The reference documents what the code emits, and names nothing the code lacks.

Reads the sources under lib/ (no build needed) and docs/API_REFERENCE.md:
  - every progress phase the library starts (`phase("...")`) is listed in §6 "Event documents";
  - every `E_...` code the library raises is a row of §8.2 "Error codes", and every row of §8.2 is a
    code the library has (lib/util/error.cpp's table);
  - every result field an operation sets (`doc["..."] = ...` and the like in lib/ops) is named in the
    reference.
Each test fails with the whole list of gaps. Run: pytest -q tests/schema/test_docs_match_code.py
"""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
LIB = ROOT / "lib"
REFERENCE = (ROOT / "docs" / "API_REFERENCE.md").read_text()


def sources(*dirs):
    for d in dirs or ("",):
        for p in sorted((LIB / d).rglob("*")):
            if p.suffix in (".cpp", ".hpp"):
                yield p, p.read_text()


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def section(title_prefix):
    """The text of the `## N. Title` (or `### N.M Title`) section starting with title_prefix."""
    m = re.search(r"^(#+) " + re.escape(title_prefix) + r".*?$", REFERENCE, re.M)
    assert m, f"docs/API_REFERENCE.md has no section '{title_prefix}'"
    level = len(m.group(1))
    end = re.compile(r"^#{1,%d} " % level, re.M).search(REFERENCE, m.end())
    return REFERENCE[m.end(): end.start() if end else len(REFERENCE)]


def where(found):
    return ", ".join(sorted({f"{p.relative_to(ROOT)}" for p in found}))


def test_every_progress_phase_is_documented():
    emitted = {}
    for path, text in sources():
        for name in re.findall(r'\bphase\(\s*"([a-z_]+)"', strip_comments(text)):
            emitted.setdefault(name, set()).add(path)
    assert emitted, "found no phase(...) calls under lib/: has the progress API moved?"
    events = section("6. Event documents")
    missing = {n: p for n, p in emitted.items() if f"`{n}`" not in events}
    assert not missing, "progress phases emitted but not documented in API_REFERENCE §6: " + "; ".join(
        f"{n} ({where(p)})" for n, p in sorted(missing.items()))


def documented_codes():
    table = section("8.2 Error codes")
    return set(re.findall(r"^\| `(E_[A-Z0-9_]+)` \|", table, re.M))


def test_every_error_code_raised_is_documented():
    raised = {}
    for path, text in sources():
        for code in re.findall(r'"(E_[A-Z0-9_]+)"', strip_comments(text)):
            raised.setdefault(code, set()).add(path)
    missing = {c: p for c, p in raised.items() if c not in documented_codes()}
    assert not missing, "error codes in lib/ but not in API_REFERENCE §8.2: " + "; ".join(
        f"{c} ({where(p)})" for c, p in sorted(missing.items()))


def test_every_documented_error_code_exists():
    table = strip_comments((LIB / "util" / "error.cpp").read_text())
    known = set(re.findall(r'\{"(E_[A-Z0-9_]+)",\s*JVS_E_', table))
    assert known, "lib/util/error.cpp's code table was not found"
    extra = documented_codes() - known
    assert not extra, "API_REFERENCE §8.2 documents codes the library does not have: " + ", ".join(sorted(extra))
    unlisted = known - documented_codes()
    assert not unlisted, "codes in lib/util/error.cpp's table missing from §8.2: " + ", ".join(sorted(unlisted))


# Keys set on a result document under lib/ops: doc["x"] = ..., r["x"] = ..., result["x"] = ...
FIELD = re.compile(r'\b(?:doc|r|result|v|wt|out|entry|finding|f)\["([a-z][a-z0-9_]*)"\]\s*(?:=[^=]|\.push_back)')


def test_every_result_field_is_documented():
    fields = {}
    for path, text in sources("ops"):
        for name in FIELD.findall(strip_comments(text)):
            fields.setdefault(name, set()).add(path)
    assert len(fields) > 20, "found few result fields under lib/ops: has the document code moved?"
    # Named in code spans: `field`, or inside one such as `findings [{code, severity, repaired?}]`.
    named = set()
    prose = re.sub(r"^```.*?^```", "", REFERENCE, flags=re.S | re.M)  # fenced examples pair backticks oddly
    for span in re.findall(r"`([^`]+)`", prose):
        named.update(re.findall(r"[a-z][a-z0-9_]*", span))
    missing = {n: p for n, p in fields.items() if n not in named}
    assert not missing, "result fields set in lib/ops but never named in API_REFERENCE.md: " + "; ".join(
        f"{n} ({where(p)})" for n, p in sorted(missing.items()))


def test_no_message_points_at_a_documentation_file():
    """An installed binary's user has no docs/ folder: messages and hints never name one."""
    found = []
    for root in ("lib", "cli"):
        for p in sorted((ROOT / root).rglob("*")):
            if p.suffix not in (".cpp", ".hpp"):
                continue
            for lit in re.findall(r'"((?:[^"\\\n]|\\.)*)"', strip_comments(p.read_text())):
                if re.search(r"docs/|[A-Za-z_]+\.md\b", lit):
                    found.append(f"{p.relative_to(ROOT)}: \"{lit}\"")
    assert not found, "string literals naming a documentation file: " + "; ".join(found)
