// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build !unix && !js

package transfer

import "time"

// processCPU is not measured here.
func processCPU() time.Duration { return 0 }
