// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import "crypto/rand"

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand's contract since Go 1.24)
	return b
}
