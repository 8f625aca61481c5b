// SPDX-License-Identifier: AGPL-3.0-or-later

// Package memstore is an in-memory session.Store, for tests, the
// single-process demo and anything else that needs no persistence.
//
// Unlike libsignal's test store it keys sessions by address value, and it
// copies every record in and out, so callers cannot alias its state.
package memstore

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/session"
)

// Store is an in-memory session.Store. It is safe for concurrent use.
type Store struct {
	local *identity.PrivateKey
	regID uint32

	mu       sync.Mutex
	remote   map[session.Address]identity.PublicKey
	preKeys  map[uint32][]byte
	signed   map[uint32][]byte
	sessions map[session.Address][]byte
}

var _ session.Store = (*Store)(nil)

// New returns an empty store for the profile with identity local and
// libsignal registration ID regID.
func New(local *identity.PrivateKey, regID uint32) *Store {
	return &Store{
		local:    local,
		regID:    regID,
		remote:   map[session.Address]identity.PublicKey{},
		preKeys:  map[uint32][]byte{},
		signed:   map[uint32][]byte{},
		sessions: map[session.Address][]byte{},
	}
}

// Generate returns an empty store with a fresh identity and registration
// ID.
func Generate() (*Store, error) {
	id, err := identity.Generate(nil)
	if err != nil {
		return nil, err
	}
	reg, err := session.NewRegistrationID()
	if err != nil {
		return nil, err
	}
	return New(id, reg), nil
}

// LocalIdentity implements session.IdentityStore.
func (s *Store) LocalIdentity(context.Context) (*identity.PrivateKey, uint32, error) {
	return s.local, s.regID, nil
}

// RemoteIdentity implements session.IdentityStore.
func (s *Store) RemoteIdentity(_ context.Context, addr session.Address) (identity.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.remote[addr]
	if !ok {
		return identity.PublicKey{}, fmt.Errorf("memstore: identity of %q: %w", addr, session.ErrNotFound)
	}
	return k, nil
}

// SaveRemoteIdentity implements session.IdentityStore.
func (s *Store) SaveRemoteIdentity(_ context.Context, addr session.Address, key identity.PublicKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remote[addr] = key
	return nil
}

// LoadPreKey implements session.PreKeyStore.
func (s *Store) LoadPreKey(_ context.Context, id uint32) ([]byte, error) {
	return load(&s.mu, s.preKeys, id)
}

// StorePreKey implements session.PreKeyStore.
func (s *Store) StorePreKey(_ context.Context, id uint32, rec []byte) error {
	return put(&s.mu, s.preKeys, id, rec)
}

// RemovePreKey implements session.PreKeyStore.
func (s *Store) RemovePreKey(_ context.Context, id uint32) error {
	return remove(&s.mu, s.preKeys, id)
}

// LoadSignedPreKey implements session.SignedPreKeyStore.
func (s *Store) LoadSignedPreKey(_ context.Context, id uint32) ([]byte, error) {
	return load(&s.mu, s.signed, id)
}

// StoreSignedPreKey implements session.SignedPreKeyStore.
func (s *Store) StoreSignedPreKey(_ context.Context, id uint32, rec []byte) error {
	return put(&s.mu, s.signed, id, rec)
}

// RemoveSignedPreKey implements session.SignedPreKeyStore.
func (s *Store) RemoveSignedPreKey(_ context.Context, id uint32) error {
	return remove(&s.mu, s.signed, id)
}

// LoadSession implements session.SessionStore.
func (s *Store) LoadSession(_ context.Context, addr session.Address) ([]byte, error) {
	return load(&s.mu, s.sessions, addr)
}

// StoreSession implements session.SessionStore.
func (s *Store) StoreSession(_ context.Context, addr session.Address, rec []byte) error {
	return put(&s.mu, s.sessions, addr, rec)
}

// DeleteSession implements session.SessionStore.
func (s *Store) DeleteSession(_ context.Context, addr session.Address) error {
	return remove(&s.mu, s.sessions, addr)
}

// PreKeyCount returns how many one-time prekeys the store holds.
func (s *Store) PreKeyCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.preKeys)
}

func load[K comparable](mu *sync.Mutex, m map[K][]byte, k K) ([]byte, error) {
	mu.Lock()
	defer mu.Unlock()
	v, ok := m[k]
	if !ok {
		return nil, fmt.Errorf("memstore: %v: %w", k, session.ErrNotFound)
	}
	return bytes.Clone(v), nil
}

func put[K comparable](mu *sync.Mutex, m map[K][]byte, k K, v []byte) error {
	mu.Lock()
	defer mu.Unlock()
	m[k] = bytes.Clone(v)
	return nil
}

func remove[K comparable](mu *sync.Mutex, m map[K][]byte, k K) error {
	mu.Lock()
	defer mu.Unlock()
	if _, ok := m[k]; !ok {
		return fmt.Errorf("memstore: %v: %w", k, session.ErrNotFound)
	}
	delete(m, k)
	return nil
}

// Transact implements session.Store. The store's writes cannot fail, and
// the Manager's lock serialises operations, so fn runs directly.
func (s *Store) Transact(ctx context.Context, fn func(ctx context.Context) error) error {
	return fn(ctx)
}
