#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Runs every fuzz target for FUZZTIME each, one `go test -fuzz` per target
# (go test accepts only one target per -fuzz run), grouped by package.
#
#   FUZZTIME  how long each target runs (go test -fuzztime syntax: 3s, 1m,
#             1000x); default 3s
#   FUZZ      extended regular expression; only targets whose name matches
#             run (default: all)
#
# A target is any `func FuzzXxx(` at the start of a line in a *_test.go file
# (tracked or untracked-but-not-ignored; testdata/ and directories starting
# with . or _ are skipped, as go does). A crashing input is written by go test
# to <package>/testdata/fuzz/FuzzXxx/ and then runs as a regular test case in
# every `go test`: commit it together with the fix.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUZZTIME=${FUZZTIME:-3s}
FUZZ=${FUZZ:-.}

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	files=$(git ls-files --cached --others --exclude-standard -- '*_test.go')
else
	files=$(find . -name '*_test.go' | sed 's|^\./||')
fi

targets=() # "dir name"
while IFS= read -r f; do
	[[ -n $f && -f $f ]] || continue
	[[ /$f =~ /(testdata|[._][^/]*)/ || $(basename "$f") == [._]* ]] && continue
	while IFS= read -r name; do
		[[ $name =~ $FUZZ ]] || continue
		targets+=("$(dirname "$f") $name")
	done < <(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/p' "$f")
done <<<"$files"

if ((${#targets[@]} == 0)); then
	[[ $FUZZ == . ]] && what="" || what=" matching '$FUZZ'"
	echo "fuzz: no fuzz targets found$what; nothing to do"
	exit 0
fi

# runone runs one target, printing its output. Go 1.26's fuzz coordinator
# can fail a target with a bare "context deadline exceeded" when
# -fuzztime ends while a worker is mid-call under load (golang/go#75804,
# fixed in Go 1.27): no input failed, and none is written. Such a run is
# retried once; a failure that names an input, panics, or writes a
# reproducer never is.
runone() {
	local dir=$1 name=$2 log corpus before after
	corpus="$dir/testdata/fuzz/$name"
	before=$(ls "$corpus" 2>/dev/null | wc -l)
	for attempt in 1 2; do
		log=$(mktemp)
		if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "./$dir" 2>&1 | tee "$log"; then
			rm -f "$log"
			return 0
		fi
		after=$(ls "$corpus" 2>/dev/null | wc -l)
		if ((attempt == 1 && after == before)) && grep -q 'context deadline exceeded' "$log" &&
			! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' "$log"; then
			echo "fuzz: $name hit Go's fuzztime race (golang/go#75804), no input failed; running it again"
			rm -f "$log"
			continue
		fi
		rm -f "$log"
		return 1
	done
	return 1
}

mapfile -t targets < <(printf '%s\n' "${targets[@]}" | sort -u)
echo "fuzz: ${#targets[@]} targets, $FUZZTIME each"
i=0
for t in "${targets[@]}"; do
	dir=${t% *}
	name=${t##* }
	i=$((i + 1))
	echo "--- fuzz [$i/${#targets[@]}] $name in ./$dir"
	if ! runone "$dir" "$name"; then
		echo "fuzz: FAIL: $name in ./$dir (a failing input, if one was found, is in ./$dir/testdata/fuzz/$name/;" >&2
		echo "      reproduce with: go test -run '^$name\$' ./$dir)" >&2
		exit 1
	fi
done
echo "fuzz: all ${#targets[@]} targets passed ($FUZZTIME each)"
