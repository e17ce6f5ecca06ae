#!/usr/bin/env bash
# Regenerate every corpus schema's prisma.sql (Prisma Migrate's DDL for schema.prisma,
# `prisma migrate diff --from-empty`) with the offline Prisma toolkit.
#
#   tests/data/corpus/regenerate.sh [NAME ...]        # default: every schema
#
# The toolkit: $RUNBOOK_PRISMA_TOOLKIT, else .prisma-toolkit/ in the project root
# (cp -r ../shared/prisma-toolkit .prisma-toolkit && (cd .prisma-toolkit && npm ci --ignore-scripts)).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
tk="${RUNBOOK_PRISMA_TOOLKIT:-$root/.prisma-toolkit}"
if [ ! -x "$tk/ddl.sh" ] || [ ! -d "$tk/node_modules" ]; then
    echo "regenerate.sh: no installed Prisma toolkit at $tk (set RUNBOOK_PRISMA_TOOLKIT)" >&2
    exit 2
fi
if [ "$#" -eq 0 ]; then
    set -- $(cd "$here" && for d in */schema.prisma; do dirname "$d"; done)
fi
for name in "$@"; do
    d="$here/$name"
    [ -f "$d/schema.prisma" ] || { echo "regenerate.sh: no $d/schema.prisma" >&2; exit 2; }
    "$tk/ddl.sh" "$d/schema.prisma" > "$d/prisma.sql.tmp"
    mv "$d/prisma.sql.tmp" "$d/prisma.sql"
    echo "$name: $(grep -c '^CREATE TABLE' "$d/prisma.sql") tables -> $d/prisma.sql"
done
