// SPDX-License-Identifier: AGPL-3.0-or-later

package mailbox

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"

	"github.com/hushchat/hush/pkg/internal/secret"
)

// AuthKey is a queue's own Ed25519 key: it signs the owner's operations
// on that queue and nothing else. It must be kept secret; it never prints.
type AuthKey struct {
	_    [0]func() // incomparable: use Equal
	seed [ed25519.SeedSize]byte
	priv ed25519.PrivateKey
}

// AuthPublicKey is the public half of an AuthKey, which the relay keeps.
type AuthPublicKey [ed25519.PublicKeySize]byte

// NewAuthKey returns a fresh auth key read from r (crypto/rand if nil).
func NewAuthKey(r io.Reader) (*AuthKey, error) {
	if r == nil {
		r = rand.Reader
	}
	var seed [ed25519.SeedSize]byte
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, fmt.Errorf("mailbox: read randomness: %w", err)
	}
	defer secret.Zero(seed[:])
	return AuthKeyFromSeed(seed[:])
}

// AuthKeyFromSeed rebuilds an auth key from its 32-byte seed, as Seed
// returns it.
func AuthKeyFromSeed(seed []byte) (*AuthKey, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("mailbox: auth key seed is %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	k := &AuthKey{priv: ed25519.NewKeyFromSeed(seed)}
	copy(k.seed[:], seed)
	return k, nil
}

// Seed returns a copy of the key's seed, for the client's store. It must
// be kept secret.
func (k *AuthKey) Seed() []byte { return append([]byte(nil), k.seed[:]...) }

// Public returns the key's public half.
func (k *AuthKey) Public() AuthPublicKey {
	return AuthPublicKey(k.priv.Public().(ed25519.PublicKey))
}

// Equal reports whether k and o are the same key, in constant time.
func (k *AuthKey) Equal(o *AuthKey) bool { return secret.Equal(k.seed[:], o.seed[:]) }

func (k *AuthKey) sign(msg []byte) []byte { return ed25519.Sign(k.priv, msg) }

// String returns a placeholder: the key never prints.
func (k AuthKey) String() string { return "mailbox.AuthKey(redacted)" }

// GoString returns the same placeholder as String.
func (k AuthKey) GoString() string { return k.String() }

// Format makes every fmt verb print the placeholder.
func (k AuthKey) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// Queue is the client's side of one of its own queues: everything needed
// to operate it. The client stores it encrypted; Counter must be stored
// before the request that used it is sent, or a crash could make the
// client repeat a counter the relay already accepted (the relay would
// refuse it with StatusCounter and say which counter it last accepted).
type Queue struct {
	Relay          RelayID
	Recipient      RecipientID
	Sender         SenderID
	Auth           *AuthKey
	ContactRequest bool
	// Counter is the last counter this client used in a signed operation.
	Counter uint64
}

// NewQueue makes the IDs and key of a new queue on relay. The queue
// exists once the relay has answered CreateRequest with StatusOK.
func NewQueue(relay RelayID, contactRequest bool) (*Queue, error) {
	rid, err := NewRecipientID(nil)
	if err != nil {
		return nil, err
	}
	sid, err := NewSenderID(nil)
	if err != nil {
		return nil, err
	}
	k, err := NewAuthKey(nil)
	if err != nil {
		return nil, err
	}
	return &Queue{Relay: relay, Recipient: rid, Sender: sid, Auth: k, ContactRequest: contactRequest}, nil
}

// Address returns what a contact needs to send into the queue.
func (q *Queue) Address() QueueAddress { return QueueAddress{Relay: q.Relay, Sender: q.Sender} }
