#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Checks run by `make test` (each also a make target of its own):
#   .ci/check.sh generated   `make generate` changes nothing under proto/
#   .ci/check.sh fmt         gofmt -l prints nothing
#   .ci/check.sh grpc-free   no google.golang.org/grpc in the wasm build of the
#                            browser-facing packages
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

in_git() { git rev-parse --is-inside-work-tree >/dev/null 2>&1; }

# go_files prints, NUL-separated, the .go files that exist in the work tree and
# are tracked or untracked-but-not-ignored, outside testdata/ directories.
go_files() {
	local list
	if in_git; then
		list=$(git ls-files -z --cached --others --exclude-standard -- '*.go' | tr '\0' '\n')
	else
		list=$(find . -name '*.go' -not -path './.*' | sed 's|^\./||')
	fi
	while IFS= read -r f; do
		[[ -n $f && -f $f ]] || continue
		[[ /$f == */testdata/* ]] && continue
		printf '%s\0' "$f"
	done <<<"$list" | sort -zu
}

check_generated() {
	snap=$(mktemp -d)
	trap 'rm -rf "$snap"' EXIT
	cp -a proto "$snap/proto"
	"${MAKE:-make}" --no-print-directory generate
	if ! diff -ruN "$snap/proto" proto >"$snap/diff"; then
		echo "check-generate: FAIL: the generated code under proto/ was not up to date." >&2
		echo "'make generate' has now rewritten it; review and commit the result. Changes:" >&2
		cat "$snap/diff" >&2
		return 1
	fi
	if in_git; then
		local status
		status=$(git status --porcelain --untracked-files=all -- proto/)
		if [[ -n $status ]]; then
			if [[ ${CI:-} == true ]]; then
				# CI works on a fresh clone: any difference is a missing commit.
				echo "check-generate: FAIL: proto/ differs from the commit after 'make generate':" >&2
				echo "$status" >&2
				git --no-pager diff -- proto/ >&2
				return 1
			fi
			echo "check-generate: note: proto/ has uncommitted changes (fine locally, but commit the generated files with their .proto):"
			echo "$status" | sed 's/^/  /'
		fi
	fi
	echo "check-generate: generated code is current"
}

check_fmt() {
	local out
	out=$(go_files | xargs -0 -r gofmt -l)
	if [[ -n $out ]]; then
		echo "fmt-check: FAIL: these files are not gofmt'ed (run: gofmt -w FILE):" >&2
		echo "$out" | sed 's/^/  /' >&2
		return 1
	fi
	echo "fmt-check: $(go_files | tr -cd '\0' | wc -c) files gofmt-clean"
}

# check_grpc_free lists every package the browser build links (GOOS=js
# GOARCH=wasm go list -deps) and fails if any is google.golang.org/grpc or
# below it, printing for each package that imports grpc the shortest import
# chain from one of the roots.
check_grpc_free() {
	local prefix=${GRPC_PREFIX:-google.golang.org/grpc}
	local roots=(./pkg/...)
	[[ -d clients/wasm ]] && roots+=(./clients/wasm/...)
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	GOOS=js GOARCH=wasm go list "${roots[@]}" >"$tmp/roots"
	GOOS=js GOARCH=wasm go list -deps \
		-f '{{.ImportPath}}{{range .Imports}} {{.}}{{end}}' "${roots[@]}" >"$tmp/edges"
	local n
	n=$(awk -v p="$prefix" '$1 == p || index($1, p "/") == 1' "$tmp/edges" | wc -l)
	if ((n == 0)); then
		echo "grpc-free: OK: $(wc -l <"$tmp/edges") packages in the js/wasm build of ${roots[*]}, none under $prefix"
		return 0
	fi
	echo "grpc-free: FAIL: the js/wasm build of ${roots[*]} links $n packages under $prefix" >&2
	echo "(grpc-go belongs in a native-only package; see DESIGN.md). Import chains:" >&2
	awk -v p="$prefix" '
		function bad(x) { return x == p || index(x, p "/") == 1 }
		FNR == NR { root[$1] = 1; queue[++qt] = $1; seen[$1] = 1; next }
		{ imps[$1] = $0 }
		END {
			# Breadth-first from the roots, not descending into grpc itself.
			qh = 1
			while (qh <= qt) {
				x = queue[qh++]
				if (bad(x) || !(x in imps)) continue
				k = split(imps[x], f, " ")
				for (i = 2; i <= k; i++) {
					y = f[i]
					if (bad(y) && !((x, y) in shown)) {
						shown[x, y] = 1
						chain = y
						for (z = x; z != ""; z = parent[z]) chain = z " -> " chain
						print "  " chain
					}
					if (!(y in seen)) { seen[y] = 1; parent[y] = x; queue[++qt] = y }
				}
			}
		}' "$tmp/roots" "$tmp/edges" >&2
	return 1
}

case ${1:-} in
generated) check_generated ;;
fmt) check_fmt ;;
grpc-free) check_grpc_free ;;
*) echo "usage: $0 generated|fmt|grpc-free" >&2; exit 2 ;;
esac
