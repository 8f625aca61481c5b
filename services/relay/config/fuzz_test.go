// SPDX-License-Identifier: AGPL-3.0-or-later

package config

import "testing"

func FuzzLoad(f *testing.F) {
	tmpl := []byte(Template(Defaults()))
	f.Add(tmpl)
	f.Add([]byte("[relay]\nlisten = \"[::1]:7443\"\n"))
	for _, i := range []int{len(tmpl) / 3, len(tmpl) / 2, len(tmpl) - 3} {
		flipped := append([]byte(nil), tmpl...)
		flipped[i] ^= 1
		f.Add(flipped)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Load(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load accepted a config that does not validate: %v", err)
		}
	})
}
