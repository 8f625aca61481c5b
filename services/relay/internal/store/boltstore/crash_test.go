// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/hushchat/hush/services/relay/internal/store"
)

// crashChildEnv makes the test binary the child of TestCrashKeepsAcknowledged:
// it sends until killed and prints each acknowledged message ID.
const crashChildEnv = "HUSH_BOLTSTORE_CRASH_CHILD"

// TestCrashKeepsAcknowledged kills a process with SIGKILL while eight of
// its goroutines send, then checks that every send it acknowledged is in
// the store.
func TestCrashKeepsAcknowledged(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "relay.db")
	s := openAt(t, path, store.Limits{MaxQueueEnvelopes: 1 << 20, MaxQueueBytes: 1 << 40})
	q := mkQueue(t, s, false)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashKeepsAcknowledged$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path, "HUSH_CRASH_SENDER="+hex.EncodeToString(q.Sender[:]))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []store.MessageID
	sc := bufio.NewScanner(out)
	for sc.Scan() && len(acked) < 300 {
		var m store.MessageID
		if _, err := hex.Decode(m[:], sc.Bytes()); err != nil {
			continue // test framework output
		}
		acked = append(acked, m)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if len(acked) < 300 {
		t.Fatalf("child acknowledged only %d sends before it ended", len(acked))
	}
	s = openAt(t, path, store.Limits{MaxQueueEnvelopes: 1 << 20, MaxQueueBytes: 1 << 40})
	for _, m := range acked {
		if res := send(t, s, q, m, 0, t0); !res.Duplicate {
			t.Fatalf("acknowledged send %x lost in the crash", m)
		}
	}
	if st := stats(t, s); st.Envelopes < int64(len(acked)) {
		t.Fatalf("%d envelopes after the crash, %d were acknowledged", st.Envelopes, len(acked))
	}
}

func crashChild(path string) {
	s, err := Open(path, Options{Limits: store.Limits{MaxQueueEnvelopes: 1 << 20, MaxQueueBytes: 1 << 40}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var sender store.QueueID
	hex.Decode(sender[:], []byte(os.Getenv("HUSH_CRASH_SENDER")))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				m := randMsg()
				if _, err := s.Send(ctx, sender, m, envelope(1), t0); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Println(hex.EncodeToString(m[:]))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
