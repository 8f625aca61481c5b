// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package core

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core/store"
	"github.com/hushchat/hush/pkg/onion"
)

// Environment of the child process of TestSenderKilledAfterPersisting.
const (
	envChildDir     = "HUSH_TEST_CHILD_PROFILE"
	envChildContact = "HUSH_TEST_CHILD_CONTACT"
	childPassphrase = "kill test passphrase"
)

// blackhole is a Network that never answers: the child persists its
// message and is killed before anything leaves.
type blackhole struct{ Network }

func (blackhole) Ask(ctx context.Context, _ onion.RelayID, _ []byte) ([]byte, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestSenderKilledAfterPersisting: a sender (a real child process) stores
// a message in its outbox and is killed with SIGKILL before sending it;
// reopened, the profile sends it and the recipient gets it once.
func TestSenderKilledAfterPersisting(t *testing.T) {
	tn := startNet(t)
	tn.passphrase = []byte(childPassphrase)
	alice := tn.newUser(t, "alice", nil)
	bob := tn.newUser(t, "bob", nil)
	ab, ba := connect(t, alice, bob)
	alice.stop()

	cmd := exec.Command(os.Args[0], "-test.run=^TestChildSender$", "-test.v")
	cmd.Env = append(os.Environ(), envChildDir+"="+alice.dir, envChildContact+"="+strconv.FormatInt(int64(ab.ID), 10))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	persisted := false
	for lines.Scan() {
		if lines.Text() == "persisted" {
			persisted = true
			break
		}
	}
	if !persisted {
		cmd.Wait()
		t.Fatal("the child did not report its message persisted")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	alice = tn.reopen(t, "alice", alice.dir, nil)
	bob.await(t, "the message of the killed sender", 30*time.Second, receivedText("sent by a process that was killed"))
	h, err := bob.c.History(context.Background(), ba.ID, nil, 10)
	if err != nil || len(h) != 1 {
		t.Fatalf("bob's history: %d messages, %v", len(h), err)
	}
	alice.await(t, "sent", 10*time.Second, kind(EventSent))
}

// TestChildSender is the child of TestSenderKilledAfterPersisting; it
// does nothing in a normal run.
func TestChildSender(t *testing.T) {
	dir := os.Getenv(envChildDir)
	if dir == "" {
		t.Skip("runs only as the child of TestSenderKilledAfterPersisting")
	}
	id, _ := strconv.ParseInt(os.Getenv(envChildContact), 10, 64)
	o := ProfileOptions{Dir: dir, Passphrase: func() ([]byte, error) { return []byte(childPassphrase), nil }}
	o.wrapNetwork = func(n Network) Network { return blackhole{n} }
	c, _, err := OpenProfile(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendText(context.Background(), store.ContactID(id), "sent by a process that was killed"); err != nil {
		t.Fatal(err)
	}
	fmt.Println("persisted")
	go c.Run(context.Background())
	time.Sleep(time.Minute)
}
