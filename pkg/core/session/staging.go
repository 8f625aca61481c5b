// SPDX-License-Identifier: AGPL-3.0-or-later

package session

import (
	"context"
	"errors"
	"fmt"

	sigid "go.mau.fi/libsignal/keys/identity"
	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/serialize"
	"go.mau.fi/libsignal/state/record"
	"go.mau.fi/libsignal/state/store"

	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/internal/secret"
)

// staging adapts a Store to the library's store interfaces for one
// operation. Reads fall through to the Store; writes are kept in memory
// until commit, so a failed operation changes nothing.
type staging struct {
	st       Store
	local    *sigid.KeyPair
	regID    uint32
	ser      *serialize.Serializer
	sessions map[Address]*record.Session
	trusted  map[Address]identity.PublicKey
	usedPre  map[uint32]bool
}

var (
	_ store.Session      = (*staging)(nil)
	_ store.PreKey       = (*staging)(nil)
	_ store.SignedPreKey = (*staging)(nil)
	_ store.IdentityKey  = (*staging)(nil)
)

func (m *Manager) stage() *staging {
	return &staging{
		st:       m.st,
		local:    m.localPair,
		regID:    m.regID,
		ser:      m.ser,
		sessions: map[Address]*record.Session{},
		trusted:  map[Address]identity.PublicKey{},
		usedPre:  map[uint32]bool{},
	}
}

// commit writes the staged changes to the Store: identities first, then
// sessions, then the removal of consumed one-time prekeys. A Store that
// carries a transaction in ctx makes the three atomic.
func (s *staging) commit(ctx context.Context) error {
	for addr, key := range s.trusted {
		if err := s.st.SaveRemoteIdentity(ctx, addr, key); err != nil {
			return &storeError{"save identity", err}
		}
	}
	for addr, rec := range s.sessions {
		if err := s.st.StoreSession(ctx, addr, rec.Serialize()); err != nil {
			return &storeError{"store session", err}
		}
	}
	for id := range s.usedPre {
		if err := s.st.RemovePreKey(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
			return &storeError{"remove used prekey", err}
		}
	}
	return nil
}

func addrOf(a *protocol.SignalAddress) Address { return Address(a.Name()) }

// LoadSession implements store.Session. A contact without a session gets a
// fresh, empty record, as the library expects.
func (s *staging) LoadSession(ctx context.Context, a *protocol.SignalAddress) (*record.Session, error) {
	if rec, ok := s.sessions[addrOf(a)]; ok {
		return rec, nil
	}
	b, err := s.st.LoadSession(ctx, addrOf(a))
	if errors.Is(err, ErrNotFound) {
		return record.NewSession(s.ser.Session, s.ser.State), nil
	}
	if err != nil {
		return nil, &storeError{"load session", err}
	}
	rec, err := record.NewSessionFromBytes(b, s.ser.Session, s.ser.State)
	if err != nil {
		return nil, &storeError{"load session", fmt.Errorf("stored record is corrupt: %w", err)}
	}
	return rec, nil
}

// GetSubDeviceSessions implements store.Session. Hush has one device per
// profile, so there are none.
func (s *staging) GetSubDeviceSessions(context.Context, string) ([]uint32, error) { return nil, nil }

// StoreSession implements store.Session.
func (s *staging) StoreSession(_ context.Context, a *protocol.SignalAddress, rec *record.Session) error {
	s.sessions[addrOf(a)] = rec
	return nil
}

// ContainsSession implements store.Session.
func (s *staging) ContainsSession(ctx context.Context, a *protocol.SignalAddress) (bool, error) {
	if _, ok := s.sessions[addrOf(a)]; ok {
		return true, nil
	}
	ok, err := exists(s.st.LoadSession(ctx, addrOf(a)))
	if err != nil {
		return false, &storeError{"load session", err}
	}
	return ok, nil
}

// DeleteSession implements store.Session; the library does not call it
// during the operations a Manager runs.
func (s *staging) DeleteSession(context.Context, *protocol.SignalAddress) error {
	return errors.New("session: internal error: DeleteSession while staging")
}

// DeleteAllSessions implements store.Session; never called by the library
// during the operations a Manager runs.
func (s *staging) DeleteAllSessions(context.Context) error {
	return errors.New("session: internal error: DeleteAllSessions while staging")
}

// LoadPreKey implements store.PreKey. A missing or already used key is
// reported as nil, which the library turns into its own error.
func (s *staging) LoadPreKey(ctx context.Context, id uint32) (*record.PreKey, error) {
	if s.usedPre[id] {
		return nil, nil
	}
	b, err := s.st.LoadPreKey(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, &storeError{"load prekey", err}
	}
	rec, err := record.NewPreKeyFromBytes(b, s.ser.PreKeyRecord)
	if err != nil {
		return nil, &storeError{"load prekey", fmt.Errorf("stored record is corrupt: %w", err)}
	}
	return rec, nil
}

// StorePreKey implements store.PreKey; the library does not call it.
func (s *staging) StorePreKey(context.Context, uint32, *record.PreKey) error {
	return errors.New("session: internal error: StorePreKey while staging")
}

// ContainsPreKey implements store.PreKey.
func (s *staging) ContainsPreKey(ctx context.Context, id uint32) (bool, error) {
	rec, err := s.LoadPreKey(ctx, id)
	return rec != nil, err
}

// RemovePreKey implements store.PreKey: the one-time prekey was consumed.
func (s *staging) RemovePreKey(_ context.Context, id uint32) error {
	s.usedPre[id] = true
	return nil
}

// LoadSignedPreKey implements store.SignedPreKey.
func (s *staging) LoadSignedPreKey(ctx context.Context, id uint32) (*record.SignedPreKey, error) {
	b, err := s.st.LoadSignedPreKey(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, &storeError{"load signed prekey", err}
	}
	rec, err := record.NewSignedPreKeyFromBytes(b, s.ser.SignedPreKeyRecord)
	if err != nil {
		return nil, &storeError{"load signed prekey", fmt.Errorf("stored record is corrupt: %w", err)}
	}
	return rec, nil
}

// LoadSignedPreKeys implements store.SignedPreKey; the library does not
// call it.
func (s *staging) LoadSignedPreKeys(context.Context) ([]*record.SignedPreKey, error) {
	return nil, errors.New("session: internal error: LoadSignedPreKeys while staging")
}

// StoreSignedPreKey implements store.SignedPreKey; the library does not
// call it.
func (s *staging) StoreSignedPreKey(context.Context, uint32, *record.SignedPreKey) error {
	return errors.New("session: internal error: StoreSignedPreKey while staging")
}

// ContainsSignedPreKey implements store.SignedPreKey.
func (s *staging) ContainsSignedPreKey(ctx context.Context, id uint32) (bool, error) {
	rec, err := s.LoadSignedPreKey(ctx, id)
	return rec != nil, err
}

// RemoveSignedPreKey implements store.SignedPreKey; the library does not
// call it.
func (s *staging) RemoveSignedPreKey(context.Context, uint32) error {
	return errors.New("session: internal error: RemoveSignedPreKey while staging")
}

// GetIdentityKeyPair implements store.IdentityKey.
func (s *staging) GetIdentityKeyPair() *sigid.KeyPair { return s.local }

// GetLocalRegistrationID implements store.IdentityKey.
func (s *staging) GetLocalRegistrationID() uint32 { return s.regID }

// SaveIdentity implements store.IdentityKey. The library calls it after
// every message; only a key not yet trusted is validated and staged.
func (s *staging) SaveIdentity(ctx context.Context, a *protocol.SignalAddress, key *sigid.Key) error {
	known, err := s.knownIdentity(ctx, addrOf(a))
	if err != nil {
		return err
	}
	if !known.IsZero() {
		if sameKey(known, key) {
			return nil
		}
		// The library asks IsTrustedIdentity first, so this cannot happen;
		// refuse rather than replace a trusted key if it ever does.
		return ErrIdentityChanged
	}
	pub, err := identity.FromSignal(key)
	if err != nil {
		return fmt.Errorf("session: contact identity: %w", err)
	}
	s.trusted[addrOf(a)] = pub
	return nil
}

// IsTrustedIdentity implements store.IdentityKey: the first key seen for a
// contact is trusted; a different one later is not.
func (s *staging) IsTrustedIdentity(ctx context.Context, a *protocol.SignalAddress, key *sigid.Key) (bool, error) {
	known, err := s.knownIdentity(ctx, addrOf(a))
	if err != nil {
		return false, err
	}
	return known.IsZero() || sameKey(known, key), nil
}

// knownIdentity returns the key trusted for addr, staged or stored, or the
// zero key if there is none.
func (s *staging) knownIdentity(ctx context.Context, addr Address) (identity.PublicKey, error) {
	if k, ok := s.trusted[addr]; ok {
		return k, nil
	}
	k, err := s.st.RemoteIdentity(ctx, addr)
	if errors.Is(err, ErrNotFound) {
		return identity.PublicKey{}, nil
	}
	if err != nil {
		return identity.PublicKey{}, &storeError{"load contact identity", err}
	}
	return k, nil
}

func sameKey(known identity.PublicKey, key *sigid.Key) bool {
	if key == nil || key.PublicKey() == nil {
		return false
	}
	raw := key.PublicKey().PublicKey()
	return secret.Equal(raw[:], known.Bytes())
}

func exists(b []byte, err error) (bool, error) {
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// storeError marks a failure of the Store, so it is not mistaken for a
// message that failed to decrypt.
type storeError struct {
	op  string
	err error
}

func (e *storeError) Error() string { return "session: " + e.op + ": " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }
