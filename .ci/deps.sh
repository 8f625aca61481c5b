#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Installs what the build needs and is missing; prints nothing when nothing is.
#
#   .ci/deps.sh apt CHECK:PACKAGE...   Debian packages. CHECK is a command name
#                                      (looked up on PATH) or an absolute path
#                                      (a file the package installs). Every
#                                      package whose CHECK fails is installed
#                                      with one apt-get call (sudo if not root).
#   .ci/deps.sh go-tools               protoc-gen-go and protoc-gen-connect-go
#                                      into $BIN_DIR (default .bin/) at their
#                                      pinned versions, reinstalled when missing
#                                      or at another version.
#
# Versions (see the Makefile): protoc-gen-go follows google.golang.org/protobuf
# in go.mod; protoc-gen-connect-go follows connectrpc.com/connect in go.mod when
# go.mod requires it, else $CONNECT_GO_VERSION.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { echo "deps: $*" >&2; exit 1; }

apt_deps() {
	local missing=() pair check pkg
	for pair in "$@"; do
		check=${pair%%:*}
		pkg=${pair#*:}
		[[ -n $check && -n $pkg && $pair == *:* ]] || die "bad entry '$pair' (want CHECK:PACKAGE)"
		if [[ $check == /* ]]; then
			[[ -e $check ]] && continue
		else
			command -v "$check" >/dev/null 2>&1 && continue
		fi
		[[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
	done
	((${#missing[@]})) || return 0

	echo "deps: installing Debian packages: ${missing[*]}"
	local sudo=()
	if ((EUID != 0)); then
		command -v sudo >/dev/null 2>&1 ||
			die "not root and no sudo: install these Debian packages by hand: ${missing[*]}"
		sudo=(sudo -n)
	fi
	command -v apt-get >/dev/null 2>&1 ||
		die "no apt-get on this machine: install the equivalents of: ${missing[*]}"
	local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq
		-o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=300)
	local log
	log=$(mktemp)
	if ! "${apt[@]}" update </dev/null >"$log" 2>&1; then
		cat "$log" >&2; rm -f "$log"
		die "apt-get update failed"
	fi
	if ! "${apt[@]}" install -y --no-install-recommends "${missing[@]}" </dev/null >"$log" 2>&1; then
		cat "$log" >&2; rm -f "$log"
		die "apt-get install ${missing[*]} failed"
	fi
	rm -f "$log"

	# Make sure the packages really provided what was asked for.
	for pair in "$@"; do
		check=${pair%%:*}
		if [[ $check == /* ]]; then
			[[ -e $check ]] || die "${pair#*:} is installed but $check is still missing"
		else
			command -v "$check" >/dev/null 2>&1 ||
				die "${pair#*:} is installed but '$check' is still not on PATH"
		fi
	done
}

# module_version MODULE prints MODULE's version as required in go.mod, or
# nothing if go.mod does not require it.
module_version() {
	go list -m -f '{{.Version}}' "$1" 2>/dev/null || true
}

# install_tool BINARY MODULE PACKAGE VERSION
install_tool() {
	local bin=$1 mod=$2 pkg=$3 want=$4 have=""
	local exe="$BIN_DIR/$bin"
	if [[ -x $exe ]]; then
		have=$(go version -m "$exe" 2>/dev/null | awk -v m="$mod" '$1 == "mod" && $2 == m { print $3 }')
	fi
	[[ $have == "$want" ]] && return 0
	echo "deps: installing $pkg@$want into $BIN_DIR${have:+ (had $have)}"
	mkdir -p "$BIN_DIR"
	GOBIN=$BIN_DIR go install "$pkg@$want" ||
		die "go install $pkg@$want failed"
}

go_tools() {
	BIN_DIR=${BIN_DIR:-$PWD/.bin}
	[[ $BIN_DIR == /* ]] || BIN_DIR=$PWD/$BIN_DIR
	command -v go >/dev/null 2>&1 || die "go is not on PATH"

	local pb
	pb=$(module_version google.golang.org/protobuf)
	[[ -n $pb ]] || die "go.mod does not require google.golang.org/protobuf; the generated code needs it (go get google.golang.org/protobuf@latest)"
	install_tool protoc-gen-go google.golang.org/protobuf \
		google.golang.org/protobuf/cmd/protoc-gen-go "$pb"

	local connect
	connect=$(module_version connectrpc.com/connect)
	connect=${connect:-${CONNECT_GO_VERSION:?CONNECT_GO_VERSION not set}}
	install_tool protoc-gen-connect-go connectrpc.com/connect \
		connectrpc.com/connect/cmd/protoc-gen-connect-go "$connect"
}

case ${1:-} in
apt) shift; apt_deps "$@" ;;
go-tools) go_tools ;;
*) die "usage: $0 apt CHECK:PACKAGE... | $0 go-tools" ;;
esac
