#!/usr/bin/env bash
# Runs the README's shell examples against a real server, as a newcomer
# would paste them: the tour ("A tour with curl") and the coalition
# walkthrough ("A coalition: two partners, one currency"), each block in
# order in one shell, in a scratch directory with the binary built from
# this tree. Every curl in them uses --fail-with-body, so an error answer
# stops the run (set -e, pipefail) with the request that failed. The worked
# example is left out: its dates are a real week that passes.
#
#   scripts/readme-check.sh        # needs port 8080 free, curl, bash
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kopilka-readme.XXXXXX")
trap 'rm -rf "$WORK" /tmp/coalition.db*' EXIT
if curl -sf localhost:8080/readyz >/dev/null 2>&1; then
	echo "readme-check: something already answers on port 8080: stop it first" >&2
	exit 1
fi

# blocks SECTION: the sh blocks of the README section whose heading starts so.
blocks() {
	awk -v sec="## $1" '
		index($0, sec) == 1 { on = 1; next }
		/^## / { on = 0 }
		on && /^```sh/ { code = 1; next }
		on && /^```/ { code = 0; next }
		on && code { print }
	' "$ROOT/README.md"
}

# outputs SECTION: the plain blocks (a fence with no language: output shown)
# of the README section whose heading starts so.
outputs() {
	awk -v sec="## $1" '
		index($0, sec) == 1 { on = 1; next }
		/^## / { on = 0 }
		on && /^```/ { if (!open) { open = 1; plain = ($0 == "```") } else { open = 0; plain = 0 }; next }
		on && open && plain { print }
	' "$ROOT/README.md"
}

{
	echo 'set -euo pipefail'
	echo 'trap '"'"'kill $(jobs -p) 2>/dev/null || true; wait'"'"' EXIT # the servers the examples started'
	echo "cd '$WORK'"
	# The README builds with "go build -o kopilka ./cmd/kopilka" from the clone.
	blocks "A tour with curl" | sed "s|^go build -o kopilka ./cmd/kopilka|(cd '$ROOT' \&\& '$GO' build -o '$WORK/kopilka' ./cmd/kopilka)|"
	blocks "A coalition"
	# The import and the analytics report, where the shared data sets are
	# (KOPILKA_DATA, or ../shared/data beside the clone); the report must
	# print what the README shows.
	DATA=${KOPILKA_DATA:-$ROOT/../shared/data}
	if [ -f "$DATA/online_retail/online_retail.csv.gz" ]; then
		blocks "Knowing the members" |
			sed -e "s|^go build -o kopilka ./cmd/kopilka|(cd '$ROOT' \&\& '$GO' build -o '$WORK/kopilka' ./cmd/kopilka)|" \
				-e "s|\.\./shared/data|$DATA|g" -e "/analytics report/s|\$| >'$WORK/report.txt'|"
		outputs "Knowing the members" | sed -n '/^[0-9-]* to [0-9-]*: /,$p' >"$WORK/report.want"
		echo "diff '$WORK/report.want' '$WORK/report.txt'"
		echo 'echo "readme-check: the analytics report is as the README shows it"'
	else
		echo 'echo "readme-check: no data sets at '"$DATA"': the import example is left out"'
	fi
	echo 'echo; echo "readme-check: every example answered"'
} >"$WORK/examples.sh"
cp "$ROOT/README.md" "$WORK/" # for a look afterwards with KEEP
cd "$WORK"
bash "$WORK/examples.sh"
