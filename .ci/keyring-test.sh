#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Runs the keychain tests against a real Secret Service: a private D-Bus
# session (dbus-run-session) with gnome-keyring-daemon started unlocked
# with a throwaway password, in a throwaway HOME so no real keyring is
# touched. HUSH_KEYRING_TEST tells the tests they may use it; without it
# they skip.
#
#   .ci/keyring-test.sh [go test flags...]     default: -race -count=1
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

for cmd in dbus-run-session gnome-keyring-daemon; do
	command -v "$cmd" >/dev/null 2>&1 || { echo "keyring-test: $cmd is missing (make deps)" >&2; exit 1; }
done

# The Go caches stay where they are, whatever HOME becomes.
GOPATH=$(go env GOPATH) GOMODCACHE=$(go env GOMODCACHE) GOCACHE=$(go env GOCACHE)
export GOPATH GOMODCACHE GOCACHE
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
flags=("$@")
((${#flags[@]})) || flags=(-race -count=1)

export HOME=$home XDG_DATA_HOME=$home/.local/share XDG_RUNTIME_DIR=$home/run HUSH_KEYRING_TEST=1
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
# shellcheck disable=SC2016 # expanded by the inner shell
# (dbus-daemon's "Failed to set fd limit" warning in containers is harmless.)
exec dbus-run-session -- bash -c '
	set -euo pipefail
	eval "$(printf "keyring-test-password" | gnome-keyring-daemon --unlock --components=secrets)"
	export GNOME_KEYRING_CONTROL
	go test "$@" -run "Keychain" ./pkg/core/keychain/...
' keyring-test "${flags[@]}"
