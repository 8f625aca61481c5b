// SPDX-License-Identifier: AGPL-3.0-or-later

package identity

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxDisplayName is the longest display name, in bytes of UTF-8.
const MaxDisplayName = 64

// ErrDisplayName is returned by CheckDisplayName.
var ErrDisplayName = errors.New("identity: invalid display name")

// CheckDisplayName refuses a display name that is too long, not UTF-8, or
// contains control or bidirectional-override characters (which could
// rewrite a terminal or disguise a name when shown). The empty name is
// allowed: it means "no name".
func CheckDisplayName(s string) error {
	if len(s) > MaxDisplayName {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrDisplayName, len(s), MaxDisplayName)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: not UTF-8", ErrDisplayName)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return fmt.Errorf("%w: contains control character %U", ErrDisplayName, r)
		}
	}
	return nil
}
