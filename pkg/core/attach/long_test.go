// SPDX-License-Identifier: AGPL-3.0-or-later

package attach

import (
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestLong100MiB streams 100 MiB from a generator through an Encryptor and
// a Decryptor, chunk by chunk, and checks the plaintext's hash, the digest,
// and that memory does not grow with the size.
func TestLong100MiB(t *testing.T) {
	if testing.Short() {
		t.Skip("long test; skipped under -short")
	}
	const size = 100 << 20
	const maxGrowth = 16 << 20
	k := newTestKey(t)
	var seed [32]byte
	seed[0] = 42
	generate := func() io.Reader { return io.LimitReader(rand.NewChaCha8(seed), size) }

	// The sender's pass gives the digest that goes into the pointer.
	first, err := NewEncryptor(k, size, generate())
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, _, err = first.Next()
	}
	want, err := first.Digest()
	if err != nil {
		t.Fatal(err)
	}

	// Then the same stream again, each chunk straight into the recipient's
	// decryptor.
	inHash, outHash := sha256.New(), sha256.New()
	src := io.TeeReader(generate(), inHash)
	runtime.GC()
	var before, now runtime.MemStats
	runtime.ReadMemStats(&before)

	e, err := NewEncryptor(k, size, src)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewDecryptor(k, size, want, outHash)
	if err != nil {
		t.Fatal(err)
	}
	var peak uint64
	for {
		i, c, err := e.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := dec.Decrypt(c); err != nil {
			t.Fatal(err)
		}
		if i%1024 == 1023 {
			runtime.GC()
			runtime.ReadMemStats(&now)
			peak = max(peak, now.HeapInuse)
		}
	}
	runtime.ReadMemStats(&now)
	if allocated := now.TotalAlloc - before.TotalAlloc; allocated > maxGrowth {
		t.Errorf("allocated %d MiB while streaming 100 MiB", allocated>>20)
	}
	if peak > before.HeapInuse+maxGrowth {
		t.Errorf("heap in use grew from %d to %d MiB", before.HeapInuse>>20, peak>>20)
	}
	if dec.Verified() != ChunkCount(size) {
		t.Fatalf("verified %d of %d chunks", dec.Verified(), ChunkCount(size))
	}
	if err := dec.Finish(); err != nil {
		t.Fatal(err)
	}
	if string(inHash.Sum(nil)) != string(outHash.Sum(nil)) {
		t.Fatal("decrypted stream differs from the generated one")
	}
	t.Logf("%d chunks; heap in use %d KiB before, peak %d KiB; %d KiB allocated",
		dec.Verified(), before.HeapInuse>>10, peak>>10, (now.TotalAlloc-before.TotalAlloc)>>10)
}
