// SPDX-License-Identifier: AGPL-3.0-or-later

package transfer

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/onion"
)

// memFile is a File in memory that counts writes.
type memFile struct {
	mu     sync.Mutex
	b      []byte
	writes int
}

var _ File = (*memFile)(nil)

func (m *memFile) ReadAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if end := off + int64(len(p)); end > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, end-int64(len(m.b)))...)
	}
	m.writes++
	return copy(m.b[off:], p), nil
}

func (m *memFile) Truncate(size int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if size < int64(len(m.b)) {
		m.b = m.b[:size]
	} else {
		m.b = append(m.b, make([]byte, size-int64(len(m.b)))...)
	}
	return nil
}

func (m *memFile) bytes() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.b)
}

func (m *memFile) len() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.b))
}

// testRelays returns k distinct relay IDs: relay r (from 0) is 32 bytes of value r+1.
func testRelays(t testing.TB, k int) []onion.RelayID {
	t.Helper()
	var out []onion.RelayID
	for r := range k {
		id, err := onion.NewRelayID(bytes.Repeat([]byte{byte(r + 1)}, onion.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

// pattern returns plaintext bytes off..off+n-1 of every test attachment:
// byte p is p mod 251 + 1, so chunks differ and no byte is zero.
func pattern(off, n int64) []byte {
	b := make([]byte, n)
	for j := range b {
		b[j] = byte((off+int64(j))%251 + 1)
	}
	return b
}

// patternReader reads pattern(0, size) without holding it.
type patternReader struct{ off, size int64 }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), r.size-r.off)
	copy(p, pattern(r.off, n))
	r.off += n
	return int(n), nil
}

// sealed is one test attachment: its key, size, ciphertext and digest.
type sealed struct {
	key    attach.Key
	size   int64
	cipher []byte
	digest attach.Digest
}

func newKey(t testing.TB) attach.Key {
	t.Helper()
	k, err := attach.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// seal encrypts pattern(0, size) under a new key.
func seal(t testing.TB, size int64) *sealed {
	t.Helper()
	s := &sealed{key: newKey(t), size: size}
	e, err := attach.NewEncryptor(s.key, size, &patternReader{size: size})
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, c, err := e.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		s.cipher = append(s.cipher, c...)
	}
	if s.digest, err = e.Digest(); err != nil {
		t.Fatal(err)
	}
	return s
}

// fastRetries makes retries quick for the test.
func fastRetries(t testing.TB) {
	old := retry
	retry = retryPolicy{attempts: 4, first: time.Millisecond, most: 4 * time.Millisecond}
	t.Cleanup(func() { retry = old })
}
