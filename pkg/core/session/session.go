// SPDX-License-Identifier: AGPL-3.0-or-later

package session

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"go.mau.fi/libsignal/ecc"
	sigid "go.mau.fi/libsignal/keys/identity"
	"go.mau.fi/libsignal/keys/prekey"
	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/serialize"
	lsession "go.mau.fi/libsignal/session"
	"go.mau.fi/libsignal/signalerror"
	"go.mau.fi/libsignal/state/record"
	"go.mau.fi/libsignal/util/medium"
	"go.mau.fi/libsignal/util/optional"

	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/internal/signalkey"
)

// Errors returned by Manager methods. Callers branch on these with
// errors.Is.
var (
	// ErrNoSession is returned by Encrypt and by Decrypt of a TypeMessage
	// when no session exists with the contact.
	ErrNoSession = errors.New("session: no session with this contact")
	// ErrDuplicate is returned by Decrypt for a message already decrypted
	// (a replay or a redelivery). It is decided before the message is
	// authenticated.
	ErrDuplicate = errors.New("session: message already received")
	// ErrIdentityChanged is returned when the contact's identity key is not
	// the one trusted for this address. From Decrypt it is decided before
	// the message is authenticated: trusting the new key must go together
	// with decrypting the message that claims it (the client issue).
	ErrIdentityChanged = errors.New("session: contact's identity key changed")
	// ErrMalformed is returned by Decrypt for a ciphertext that does not
	// parse.
	ErrMalformed = errors.New("session: malformed message")
	// ErrDecrypt is returned by Decrypt for a well-formed message that
	// fails to decrypt (wrong MAC, unknown prekey, too far ahead).
	ErrDecrypt = errors.New("session: message does not decrypt")
)

// deviceID is the only device a Hush profile has.
const deviceID = 1

// Manager runs sessions for one profile. Its methods are safe for
// concurrent use; they run one at a time.
type Manager struct {
	mu        sync.Mutex
	st        Store
	local     *identity.PrivateKey
	localPair *sigid.KeyPair
	regID     uint32
	ser       *serialize.Serializer
}

// New returns a Manager over st. It reads the profile's identity once.
func New(ctx context.Context, st Store) (*Manager, error) {
	local, regID, err := st.LocalIdentity(ctx)
	if err != nil {
		return nil, fmt.Errorf("session: load own identity: %w", err)
	}
	return &Manager{
		st:        st,
		local:     local,
		localPair: signalkey.KeyPair(local),
		regID:     regID,
		ser:       serialize.NewProtoBufSerializer(),
	}, nil
}

// NewRegistrationID returns a random libsignal registration ID, chosen
// once per profile.
func NewRegistrationID() (uint32, error) {
	for {
		var b [2]byte
		if _, err := rand.Read(b[:]); err != nil {
			return 0, fmt.Errorf("session: read randomness: %w", err)
		}
		// libsignal's clients use 14-bit IDs; 0 is reserved.
		if id := uint32(binary.BigEndian.Uint16(b[:])) & 0x3fff; id != 0 {
			return id, nil
		}
	}
}

// Identity returns the profile's identity public key.
func (m *Manager) Identity() identity.PublicKey { return m.local.Public() }

// NewBundle creates and stores a fresh signed prekey and one-time prekey
// and returns the bundle that publishes them. Each invitation gets its own
// bundle; DiscardBundle erases its keys when the invitation expires.
func (m *Manager) NewBundle(ctx context.Context) (Bundle, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	spkID, err := m.freeID(ctx, m.st.LoadSignedPreKey)
	if err != nil {
		return Bundle{}, err
	}
	spk, err := m.newSignedPreKey(spkID)
	if err != nil {
		return Bundle{}, err
	}
	opkID, err := m.freeID(ctx, m.st.LoadPreKey)
	if err != nil {
		return Bundle{}, err
	}
	pair, err := ecc.GenerateKeyPair()
	if err != nil {
		return Bundle{}, fmt.Errorf("session: generate prekey: %w", err)
	}
	opk := record.NewPreKey(opkID, pair, m.ser.PreKeyRecord)
	if err := m.st.StoreSignedPreKey(ctx, spkID, spk.Serialize()); err != nil {
		return Bundle{}, fmt.Errorf("session: store signed prekey: %w", err)
	}
	if err := m.st.StorePreKey(ctx, opkID, opk.Serialize()); err != nil {
		return Bundle{}, fmt.Errorf("session: store prekey: %w", err)
	}
	return m.bundleOf(spk, opk)
}

func (m *Manager) newSignedPreKey(id uint32) (*record.SignedPreKey, error) {
	pair, err := ecc.GenerateKeyPair()
	if err != nil {
		return nil, fmt.Errorf("session: generate signed prekey: %w", err)
	}
	sig := m.local.Sign(pair.PublicKey().Serialize())
	return record.NewSignedPreKey(id, 0, pair, sig, m.ser.SignedPreKeyRecord), nil
}

func (m *Manager) bundleOf(spk *record.SignedPreKey, opk *record.PreKey) (Bundle, error) {
	spkPub := spk.KeyPair().PublicKey().PublicKey()
	opkPub := opk.KeyPair().PublicKey().PublicKey()
	b := Bundle{Identity: m.local.Public(), RegistrationID: m.regID}
	b.SignedPreKey.ID = spk.ID()
	b.SignedPreKey.Signature = spk.Signature()
	b.OneTimePreKey.ID = opk.ID().Value
	var err error
	if b.SignedPreKey.Public, err = NewPreKeyPublic(spkPub[:]); err != nil {
		return Bundle{}, err
	}
	if b.OneTimePreKey.Public, err = NewPreKeyPublic(opkPub[:]); err != nil {
		return Bundle{}, err
	}
	return b, nil
}

// freeID picks a random prekey ID in [1, 0xFFFFFE] not yet used in the
// store that load reads. 0xFFFFFF is the library's "no prekey" marker.
func (m *Manager) freeID(ctx context.Context, load func(context.Context, uint32) ([]byte, error)) (uint32, error) {
	for range 16 {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return 0, fmt.Errorf("session: read randomness: %w", err)
		}
		id := binary.BigEndian.Uint32(b[:])%(medium.MaxValue-1) + 1
		used, err := exists(load(ctx, id))
		if err != nil {
			return 0, fmt.Errorf("session: check prekey ID: %w", err)
		}
		if !used {
			return id, nil
		}
	}
	return 0, errors.New("session: no free prekey ID after 16 tries")
}

// DiscardBundle erases the prekeys that NewBundle created for b, so a
// session can no longer be started from it. Keys already gone are fine.
func (m *Manager) DiscardBundle(ctx context.Context, b Bundle) error {
	if !b.Identity.Equal(m.local.Public()) {
		return errors.New("session: bundle is not this profile's")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.st.RemovePreKey(ctx, b.OneTimePreKey.ID); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("session: remove prekey: %w", err)
	}
	if err := m.st.RemoveSignedPreKey(ctx, b.SignedPreKey.ID); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("session: remove signed prekey: %w", err)
	}
	return nil
}

// Initiate runs X3DH with a contact's bundle and stores the new session
// under addr. The first messages Encrypt then returns are TypePreKey.
func (m *Manager) Initiate(ctx context.Context, addr Address, b Bundle) error {
	if err := b.Verify(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	sb := prekey.NewBundle(b.RegistrationID, deviceID,
		optional.NewOptionalUint32(b.OneTimePreKey.ID), b.SignedPreKey.ID,
		b.OneTimePreKey.Public.signal(), b.SignedPreKey.Public.signal(),
		b.SignedPreKey.Signature, b.Identity.Signal())
	return m.st.Transact(ctx, func(ctx context.Context) error {
		stg := m.stage()
		if err := lsession.NewBuilder(stg, stg, stg, stg, sigAddr(addr), m.ser).ProcessBundle(ctx, sb); err != nil {
			return mapError("start session", err)
		}
		return stg.commit(ctx)
	})
}

// Encrypt advances the sending chain of addr's session and returns the
// encrypted message. If ctx carries an outer transaction that later rolls
// back, the ciphertext must be discarded, never sent: the next Encrypt
// would reuse its message key.
func (m *Manager) Encrypt(ctx context.Context, addr Address, plaintext []byte) (Ciphertext, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out Ciphertext
	err := m.st.Transact(ctx, func(ctx context.Context) error {
		ok, err := exists(m.st.LoadSession(ctx, addr))
		if err != nil {
			return &storeError{"load session", err}
		}
		if !ok {
			return ErrNoSession
		}
		stg := m.stage()
		msg, err := m.cipher(stg, addr).Encrypt(ctx, plaintext)
		if err != nil {
			return mapError("encrypt", err)
		}
		out = Ciphertext{Type: MessageType(msg.Type()), Body: msg.Serialize()}
		return stg.commit(ctx)
	})
	if err != nil {
		return Ciphertext{}, err
	}
	return out, nil
}

// Decrypt decrypts a message from addr and advances the receiving chain.
// A TypePreKey message from a new contact creates the session and consumes
// the one-time prekey it names. On any error nothing is stored.
//
// ErrDuplicate and ErrIdentityChanged are decided before the message is
// authenticated (the library checks its counter and the sender's identity
// first): they say what the message claims, not that it is genuine.
func (m *Manager) Decrypt(ctx context.Context, addr Address, c Ciphertext) ([]byte, error) {
	p, err := m.parse(c)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var pt []byte
	err = m.st.Transact(ctx, func(ctx context.Context) error {
		stg := m.stage()
		cipher := m.cipher(stg, addr)
		var err error
		if p.prekey != nil {
			pt, err = cipher.DecryptMessage(ctx, p.prekey)
		} else {
			pt, err = cipher.Decrypt(ctx, p.message)
		}
		if err != nil {
			return mapError("decrypt", err)
		}
		return stg.commit(ctx)
	})
	if err != nil {
		return nil, err
	}
	return pt, nil
}

// parsed is a ciphertext that passed parse: exactly one field is set.
type parsed struct {
	message *protocol.SignalMessage
	prekey  *protocol.PreKeySignalMessage
}

// parse reads a ciphertext and applies Hush's rules on top of the
// library's: canonical encoding, valid keys, a one-time prekey in every
// prekey message. Panics in the library's parsers become ErrMalformed.
func (m *Manager) parse(c Ciphertext) (p parsed, err error) {
	err = guard(func() error {
		switch c.Type {
		case TypeMessage:
			p.message, err = m.parseMessage(c.Body)
		case TypePreKey:
			p.prekey, err = m.parsePreKey(c.Body)
		default:
			err = fmt.Errorf("%w: %v", ErrMalformed, c.Type)
		}
		return err
	})
	return p, err
}

func (m *Manager) parseMessage(b []byte) (*protocol.SignalMessage, error) {
	msg, err := protocol.NewSignalMessageFromBytes(b, m.ser.SignalMessage)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := canonical(b, msg.Serialize()); err != nil {
		return nil, err
	}
	return msg, checkKeys(msg.SenderRatchetKey())
}

func (m *Manager) parsePreKey(b []byte) (*protocol.PreKeySignalMessage, error) {
	msg, err := protocol.NewPreKeySignalMessageFromBytes(b, m.ser.PreKeySignalMessage, m.ser.SignalMessage)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := canonical(b, msg.Serialize()); err != nil {
		return nil, err
	}
	// The outer message keeps the inner one as raw bytes; check those too.
	outer, err := m.ser.PreKeySignalMessage.Deserialize(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := canonical(outer.Message, msg.WhisperMessage().Serialize()); err != nil {
		return nil, err
	}
	// Every Hush session starts from an invitation's bundle, which always
	// has a one-time prekey. Without one, the library would run X3DH on
	// the signed prekey alone, and the invitation would start as many
	// sessions as anyone cared to make.
	if id := msg.PreKeyID(); id == nil || id.IsEmpty || id.Value == medium.MaxValue {
		return nil, fmt.Errorf("%w: prekey message without a one-time prekey", ErrMalformed)
	}
	return msg, checkKeys(msg.BaseKey(), msg.IdentityKey().PublicKey(), msg.WhisperMessage().SenderRatchetKey())
}

// canonical refuses a message whose bytes differ from the library's own
// serialization of what it parsed. The library computes its MAC over a
// re-serialization, not over the bytes received, so without this check a
// message would have many encodings (a flipped low bit of the version
// byte, an unknown protobuf field) that all decrypt.
func canonical(got, reencoded []byte) error {
	if !bytes.Equal(got, reencoded) {
		return fmt.Errorf("%w: not in canonical encoding", ErrMalformed)
	}
	return nil
}

// checkKeys refuses a message carrying a public key that is weak or not
// canonical (see identity.ValidatePoint).
func checkKeys(keys ...ecc.ECPublicKeyable) error {
	for _, k := range keys {
		if k == nil {
			return fmt.Errorf("%w: missing key", ErrMalformed)
		}
		if err := identity.ValidatePoint(k.PublicKey()); err != nil {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
	}
	return nil
}

func (m *Manager) cipher(stg *staging, addr Address) *lsession.Cipher {
	b := lsession.NewBuilder(stg, stg, stg, stg, sigAddr(addr), m.ser)
	return lsession.NewCipher(b, sigAddr(addr))
}

// RemoteIdentity returns the identity key trusted for addr, or an error
// wrapping ErrNotFound.
func (m *Manager) RemoteIdentity(ctx context.Context, addr Address) (identity.PublicKey, error) {
	return m.st.RemoteIdentity(ctx, addr)
}

func sigAddr(a Address) *protocol.SignalAddress {
	return protocol.NewSignalAddress(string(a), deviceID)
}

// guard turns a panic inside the library's parsers into ErrMalformed. The
// library indexes into attacker-supplied fields without checking their
// length; a hostile message must not crash the client. It wraps parsing
// only, so a bug elsewhere still shows as the panic it is.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: rejected by the library's parser (%v)", ErrMalformed, r)
		}
	}()
	return f()
}

// mapError translates the library's errors into this package's sentinels.
func mapError(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrMalformed), errors.As(err, new(*storeError)):
		return err
	case errors.Is(err, signalerror.ErrOldCounter):
		return ErrDuplicate
	case errors.Is(err, signalerror.ErrUntrustedIdentity):
		return ErrIdentityChanged
	case errors.Is(err, signalerror.ErrNoSessionForUser), errors.Is(err, signalerror.ErrUninitializedSession):
		return ErrNoSession
	case op != "decrypt" && (errors.Is(err, signalerror.ErrInvalidSignature) || errors.Is(err, signalerror.ErrNoSignedPreKey)):
		return fmt.Errorf("%w: %v", ErrBadBundle, err)
	case errors.Is(err, signalerror.ErrUnknownMessageVersion), errors.Is(err, signalerror.ErrOldMessageVersion),
		errors.Is(err, signalerror.ErrWrongMessageVersion), errors.Is(err, signalerror.ErrIncompleteMessage):
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if op == "decrypt" {
		return fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	return fmt.Errorf("session: %s: %w", op, err)
}
