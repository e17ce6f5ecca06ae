"""``runbook scan-code DIR...``: the services' code that still names an old table or column."""

from __future__ import annotations

import sys

from ..errors import BadInput
from .args import MAPPING_HELP
from .output import _json, _print_table, console, heading, line, notes, verdict


def cmd_scan_code(a) -> int:
    from ..scan import KINDS, patch, scan

    if a.patch == "-" and a.json:
        raise BadInput("scan-code: --patch - writes the diff to stdout, where --json writes too: give --patch a FILE")
    r = scan(a.dirs, a.mapping)
    code = 1 if r.found else 0  # whatever the output format
    diff = patch(r) if a.patch is not None else None
    if a.patch == "-":
        sys.stdout.write(diff)
        print(r.verdict, file=sys.stderr)
        return code
    if a.patch is not None:
        try:
            with open(a.patch, "w", encoding="utf-8") as f:
                f.write(diff)
        except OSError as exc:
            raise BadInput(f"scan-code: cannot write {a.patch}: {exc.strerror}") from None
    if a.json:
        d = r.to_dict()
        if a.patch is not None:
            d["patch"] = a.patch
        _json(d)
        return code
    line(f"scanned {r.files} files under {', '.join(r.roots)} for the old names of {r.mapping}")
    if r.hits:
        heading(f"References ({len(r.hits)})")
        table = [{"location": h.location, "old": h.old, "new": h.new, "kind": h.kind,
                  "confidence": h.confidence, "note": h.note} for h in r.hits]
        _plain_table(table)
        c = r.counts()
        heading("Summary")
        _print_table([{"kind": k, "references": c["by_kind"][k]} for k in KINDS if c["by_kind"][k]])
        line(", ".join(f"{n} {conf}" for conf, n in c["by_confidence"].items()) + " confidence; "
             + ", ".join(f"{name} {n}" for name, n in c["by_name"].items()))
    notes([f"{f}: skipped ({why})" for f, why in r.skipped])
    if a.patch is not None:
        n = sum(h.confidence == "high" for h in r.hits)
        line(f"wrote {a.patch}: the replacements of the {n} high-confidence references (apply with patch -p1)")
    verdict("found" if r.found else "clean", r.verdict.split(": ", 1)[1], "warn" if r.found else "ok")
    return code


def _plain_table(rows: list[dict]) -> None:
    """The references as a piped table looks (header, dashes, aligned columns), never wrapped,
    in a terminal too: a ``file:line:column`` stays whole, for an editor to open, and a scan
    of a large monorepo may find thousands (rich's table would take seconds)."""
    cols = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    out = ["  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip(), "-" * (sum(widths) + 2 * (len(cols) - 1))]
    out += ["  ".join(str(r[c]).ljust(w) for c, w in zip(cols, widths)).rstrip() for r in rows]
    console().file.write("\n".join(out) + "\n")


def add_commands(sub) -> None:
    """``runbook scan-code`` (called by :func:`runbook.cli.build_parser`)."""
    sp = sub.add_parser("scan-code", help="find the code that names an old table or column (raw SQL, query builders, "
                                          "Prisma models, .sql files); exit 1 when something is found")
    sp.add_argument("dirs", nargs="+", metavar="DIR", help="folders (or files) to scan")
    sp.add_argument("--mapping", help=MAPPING_HELP)
    sp.add_argument("--patch", metavar="FILE",
                    help="write a unified diff of the high-confidence replacements to FILE ('-': stdout); "
                         "no file is edited")
    sp.add_argument("--json", action="store_true", help="print JSON (same exit codes as the text)")
    sp.set_defaults(func=cmd_scan_code)
