// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hushchat/hush/services/relay/internal/store"
)

// The file's buckets. Every integer is big-endian, so keys sort by it;
// every time is Unix seconds (uint64, times before 1970 as 0).
var (
	bucketMeta      = []byte("meta")             // "version" → 1 B; "stats" → statsSize
	bucketQueues    = []byte("queues")           // recipient ID → queueRecord
	bucketSenders   = []byte("senders")          // sender ID → recipient ID
	bucketEnvelopes = []byte("envelopes")        // recipient ID ‖ seq → stored time ‖ envelope
	bucketEnvTimes  = []byte("envelope-times")   // stored time ‖ recipient ID ‖ seq → empty
	bucketMsgIDs    = []byte("message-ids")      // recipient ID ‖ message ID → seen time
	bucketMsgTimes  = []byte("message-id-times") // seen time ‖ recipient ID ‖ message ID → empty
	bucketChunks    = []byte("chunks")           // chunk ID → expiry ‖ token hash ‖ chunk
	bucketChunkExp  = []byte("chunk-times")      // expiry ‖ chunk ID → empty
	bucketOnion     = []byte("onion")            // "ring" → encoded onion.RingState

	allBuckets = [][]byte{bucketMeta, bucketQueues, bucketSenders, bucketEnvelopes, bucketEnvTimes,
		bucketMsgIDs, bucketMsgTimes, bucketChunks, bucketChunkExp, bucketOnion}

	keyVersion = []byte("version")
	keyStats   = []byte("stats")
	keyRing    = []byte("ring")
)

// formatVersion is the layout version in meta/"version"; Open refuses
// another.
const formatVersion = 1

const (
	u64  = 8
	idSz = store.IDSize

	// queueRecord: sender ID ‖ auth key ‖ flags ‖ last counter ‖ next seq
	// ‖ envelope count ‖ envelope bytes ‖ created.
	queueRecordSize = idSz + 32 + 1 + u64 + u64 + u64 + u64 + u64 // 105

	envKeySize     = idSz + u64                 // recipient ‖ seq
	envTimeKeySize = u64 + envKeySize           // time ‖ recipient ‖ seq
	msgKeySize     = idSz + store.MessageIDSize // recipient ‖ message ID
	msgTimeKeySize = u64 + msgKeySize           // time ‖ recipient ‖ message ID
	chunkHeadSize  = u64 + 32                   // expiry ‖ SHA-256(token)
	chunkTimeKey   = u64 + idSz                 // expiry ‖ chunk ID
	statsSize      = 4 * u64                    // queues ‖ envelopes ‖ chunks ‖ bytes
	envHeadSize    = u64                        // stored time before the envelope
)

// Queue flags.
const (
	flagContactRequest = 1 << 0 // accepts exactly one envelope
	flagUsed           = 1 << 1 // a contact-request queue that took it
)

// queueRecord is a queue's value in bucketQueues.
type queueRecord struct {
	sender      store.QueueID
	authKey     [32]byte
	flags       byte
	lastCounter uint64
	nextSeq     uint64
	count       uint64
	bytes       uint64
	created     uint64
}

func (q *queueRecord) encode() []byte {
	b := make([]byte, 0, queueRecordSize)
	b = append(b, q.sender[:]...)
	b = append(b, q.authKey[:]...)
	b = append(b, q.flags)
	for _, v := range [...]uint64{q.lastCounter, q.nextSeq, q.count, q.bytes, q.created} {
		b = binary.BigEndian.AppendUint64(b, v)
	}
	return b
}

func decodeQueue(b []byte) (queueRecord, error) {
	var q queueRecord
	if len(b) != queueRecordSize {
		return q, fmt.Errorf("boltstore: corrupt queue record of %d bytes", len(b))
	}
	copy(q.sender[:], b)
	copy(q.authKey[:], b[idSz:])
	q.flags = b[2*idSz]
	r := b[2*idSz+1:]
	for _, v := range [...]*uint64{&q.lastCounter, &q.nextSeq, &q.count, &q.bytes, &q.created} {
		*v = binary.BigEndian.Uint64(r)
		r = r[u64:]
	}
	return q, nil
}

// counts is the meta/"stats" value, kept in the same transaction as every
// change it counts.
type counts struct{ queues, envelopes, chunks, bytes int64 }

func readCounts(tx *bolt.Tx) counts {
	b := tx.Bucket(bucketMeta).Get(keyStats)
	if len(b) != statsSize {
		return counts{}
	}
	return counts{
		queues:    int64(binary.BigEndian.Uint64(b)),
		envelopes: int64(binary.BigEndian.Uint64(b[u64:])),
		chunks:    int64(binary.BigEndian.Uint64(b[2*u64:])),
		bytes:     int64(binary.BigEndian.Uint64(b[3*u64:])),
	}
}

func writeCounts(tx *bolt.Tx, c counts) error {
	b := make([]byte, 0, statsSize)
	for _, v := range [...]int64{c.queues, c.envelopes, c.chunks, c.bytes} {
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	return tx.Bucket(bucketMeta).Put(keyStats, b)
}

// unix is t in whole Unix seconds, 0 before 1970.
func unix(t time.Time) uint64 {
	if s := t.Unix(); s > 0 {
		return uint64(s)
	}
	return 0
}

func cat(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
