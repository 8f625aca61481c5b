// SPDX-License-Identifier: AGPL-3.0-or-later

// Package keychain finds the key of a profile's encrypted store.
//
// Resolve is the entry point. It implements the one policy:
//
//   - A profile whose directory holds a parameter file (ParamsFile) uses
//     the passphrase path: the key is Argon2id of the passphrase with the
//     stored parameters. Without a passphrase it returns
//     ErrNeedPassphrase.
//   - Otherwise the key is a random 256-bit key kept in the OS keychain
//     (the Secret Service on Linux, through github.com/zalando/go-keyring),
//     created there for a new profile.
//   - If the keychain does not answer (ErrUnavailable, ErrTimeout), a new
//     profile may take the passphrase path, but only with a passphrase
//     the user gave explicitly. There is never an unencrypted store and
//     never a silent fallback.
//
// Every keychain call runs under a deadline (DefaultTimeout): a locked
// keychain otherwise blocks forever. A call that times out leaves its
// goroutine blocked in the D-Bus call until the keychain answers.
//
// Passphrases come from the user, from the HUSH_PASSPHRASE environment
// variable (PassphraseFromEnv) or from one line of a file descriptor
// (ReadPassphraseFD), for scripts. ChangePassphrase re-keys a store.
//
// # Parameter file
//
// ParamsFile is text, exactly these seven lines in this order, each a
// name, one space and a value, with a final newline:
//
//	hush keyparams v1
//	kdf argon2id
//	salt <32 lower-case hex digits: 16 random bytes>
//	time <passes, 1 to 64>
//	memory <KiB, 8×threads to 4,194,304 (4 GiB)>
//	threads <1 to 255>
//	keylen 32
//
// Anything else is refused with ErrParams. The file holds no secret; it
// is written atomically (a temporary file, fsync, rename).
package keychain

import "errors"

// Errors returned by this package, possibly wrapped.
var (
	// ErrNotFound is returned by Get when the keychain answered but holds
	// no key for the profile.
	ErrNotFound = errors.New("keychain: no store key for this profile in the OS keychain")
	// ErrUnavailable is returned when no keychain answers (no D-Bus
	// session, no Secret Service, or a platform without one).
	ErrUnavailable = errors.New("keychain: no OS keychain is available")
	// ErrTimeout is returned when the keychain did not answer within the
	// deadline (it is usually locked and waiting for the user).
	ErrTimeout = errors.New("keychain: the OS keychain did not answer in time (is it locked?)")
	// ErrCorrupt is returned for a stored key that is not a 256-bit key.
	ErrCorrupt = errors.New("keychain: stored store key is malformed")
	// ErrNeedPassphrase is returned by Resolve when only a passphrase can
	// open or create the store and none was given.
	ErrNeedPassphrase = errors.New("keychain: a passphrase is required: no OS keychain answered or this profile uses a passphrase (set HUSH_PASSPHRASE or use --passphrase-fd)")
	// ErrEmptyPassphrase is returned for an empty passphrase.
	ErrEmptyPassphrase = errors.New("keychain: the passphrase is empty")
	// ErrParams is returned for a parameter file that does not parse or
	// holds values out of range.
	ErrParams = errors.New("keychain: malformed key parameter file")
	// ErrKeyMissing is returned by Resolve for an existing profile whose
	// key the keychain does not hold: a new key would not open it.
	ErrKeyMissing = errors.New("keychain: the OS keychain has no key for this existing profile; restore it or open the profile where it was created")
	// ErrNotPassphrase is returned by ChangePassphrase for a profile that
	// does not use a passphrase.
	ErrNotPassphrase = errors.New("keychain: this profile's key is in the OS keychain, not derived from a passphrase")
)
