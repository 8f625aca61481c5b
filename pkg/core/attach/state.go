// SPDX-License-Identifier: AGPL-3.0-or-later

package attach

import (
	"encoding"
	"encoding/binary"
	"hash"
)

// A resume state records how far an Encryptor or Decryptor got, so a
// restarted upload or download goes on without reading the finished chunks
// again:
//
//	state = 0x01                  ; state version
//	        commitment[0:8]       ; which attachment (from the key)
//	        size                  ; 8 bytes big-endian
//	        done                  ; 8 bytes big-endian: chunks finished
//	        digest hash state     ; Go's sha256 MarshalBinary form
//
// It holds no key material that opens anything: the commitment prefix is a
// one-way function of the key, the hash state covers public tags.
const (
	stateVersion    = 0x01
	stateCommitSize = 8
	stateHeaderSize = 1 + stateCommitSize + 8 + 8
)

// progress is the part of a stream that a state records.
type progress struct {
	done   int64     // chunks finished
	digest hash.Hash // over everything up to chunk done-1
}

// marshalState encodes p for s.
func (s *suite) marshalState(p *progress) []byte {
	hs, err := p.digest.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		// crypto/sha256 always marshals; keep the API error-free.
		panic("attach: internal error: sha256 state does not marshal")
	}
	out := make([]byte, stateHeaderSize, stateHeaderSize+len(hs))
	out[0] = stateVersion
	copy(out[1:], s.commit[:stateCommitSize])
	binary.BigEndian.PutUint64(out[1+stateCommitSize:], uint64(s.size))
	binary.BigEndian.PutUint64(out[1+stateCommitSize+8:], uint64(p.done))
	return append(out, hs...)
}

// unmarshalState decodes state for s, refusing one of another attachment.
// digestPrefixSize is what newDigest hashes before the first tag.
const digestPrefixSize = uint64(len(labelDigest) + commitmentSize + adSize)

func (s *suite) unmarshalState(state []byte) (*progress, error) {
	if len(state) <= stateHeaderSize || state[0] != stateVersion {
		return nil, ErrState
	}
	if string(state[1:1+stateCommitSize]) != string(s.commit[:stateCommitSize]) ||
		binary.BigEndian.Uint64(state[1+stateCommitSize:]) != uint64(s.size) {
		return nil, ErrState
	}
	done := binary.BigEndian.Uint64(state[1+stateCommitSize+8:])
	if done > uint64(s.count) {
		return nil, ErrState
	}
	// The hash state ends with the count of bytes hashed (Go's sha256
	// marshalled form): the digest's prefix plus one tag per chunk done. A
	// state that disagrees would only fail at Finish, after the download.
	hs := state[stateHeaderSize:]
	if len(hs) < 8 || binary.BigEndian.Uint64(hs[len(hs)-8:]) != digestPrefixSize+done*TagSize {
		return nil, ErrState
	}
	h := s.newDigest()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(hs); err != nil {
		return nil, ErrState
	}
	return &progress{done: int64(done), digest: h}, nil
}
