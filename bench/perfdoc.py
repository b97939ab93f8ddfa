"""docs/PERFORMANCE.md, one section per benchmark: the one writer every benchmark goes through."""

from __future__ import annotations

import os

PERF_DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "PERFORMANCE.md")


def write_doc(text: str, section: str) -> None:
    """Replaces `section` (its heading line, exactly) of docs/PERFORMANCE.md, up to the next `## `
    heading, with `text`, or appends it; every other section stays as it is, where it is. Every
    benchmark writes its sections through it."""
    os.makedirs(os.path.dirname(PERF_DOC), exist_ok=True)
    if os.path.exists(PERF_DOC):
        with open(PERF_DOC) as f:
            doc = f.read()
    else:
        doc = ("# Performance\n\nMeasured numbers for jvs, one section per area; each section says how to reproduce "
               "it.\n\n")
    lines = doc.split("\n")
    heads = [k for k, line in enumerate(lines) if line.startswith("## ")]
    mine = [k for k in heads if lines[k].rstrip() == section]
    if mine:  # replace our section up to the next `## ` heading, keep the others
        nxt = [k for k in heads if k > mine[0]]
        rest = "\n".join(lines[nxt[0]:]) if nxt else ""
        doc = "\n".join(lines[:mine[0]]) + "\n" + text.rstrip("\n") + "\n" + ("\n" + rest if rest else "")
        doc = doc.lstrip("\n") if mine[0] == 0 else doc
    else:
        doc = doc.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    with open(PERF_DOC, "w") as f:
        f.write(doc)
