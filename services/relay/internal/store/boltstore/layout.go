// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hushchat/hush/services/relay/internal/store"
)

// The file's buckets. Every integer is big-endian, so keys sort by it;
// every time is Unix seconds (uint64, times before 1970 as 0).
//
// "sent" is the one expiry index of sends: an envelope and its message-ID
// record are stored at the same time and expire together. Its keys grow
// (the send number is store-wide and never reused), so a commit appends to
// the index's last page instead of dirtying one random page per send, and
// its pages are filled completely (sentFillPercent). Ack and DeleteQueue
// leave its entries behind; Expire drops an entry whose records are gone
// or were stored at another time (a queue deleted and made again with the
// same IDs).
var (
	bucketMeta      = []byte("meta")        // "version" → 1 B; "stats" → statsSize; "store-id" → 16 B; "log-seq" → 8 B
	bucketQueues    = []byte("queues")      // recipient ID → queueRecord
	bucketSenders   = []byte("senders")     // sender ID → recipient ID
	bucketEnvelopes = []byte("envelopes")   // recipient ID ‖ seq → stored time ‖ envelope
	bucketMsgIDs    = []byte("message-ids") // recipient ID ‖ message ID → stored time
	bucketSent      = []byte("sent")        // stored time ‖ send number → recipient ID ‖ seq ‖ message ID
	bucketChunks    = []byte("chunks")      // chunk ID → expiry ‖ token hash ‖ chunk
	bucketChunkExp  = []byte("chunk-times") // expiry ‖ chunk ID → empty
	bucketOnion     = []byte("onion")       // "ring" → encoded onion.RingState
	// Sender IDs of deleted queues, kept so no new queue takes them over.
	bucketReleased      = []byte("released-senders") // sender ID → released time
	bucketReleasedTimes = []byte("released-times")   // released time ‖ sender ID → empty
	// Queues by the day of their owner's last operation, for idle expiry.
	bucketActivity = []byte("queue-activity") // day ‖ recipient ID → empty

	allBuckets = [][]byte{bucketMeta, bucketQueues, bucketSenders, bucketEnvelopes,
		bucketMsgIDs, bucketSent, bucketChunks, bucketChunkExp, bucketOnion,
		bucketReleased, bucketReleasedTimes, bucketActivity}

	keyVersion = []byte("version")
	keyStats   = []byte("stats")
	keyRing    = []byte("ring")
	// keyStoreID names the store's write-ahead log: a log beside the file
	// must carry the same ID in its header.
	keyStoreID = []byte("store-id")
	// keyLogSeq is the sequence number of the last log record the file's
	// committed state holds.
	keyLogSeq = []byte("log-seq")
)

// formatVersion is the layout version in meta/"version". Open migrates a
// file from oldestMigrated on and refuses any other.
//
// Version 2 replaced version 1's two time indexes, keyed by time ‖ record
// key, with "sent". Version 3 added the write-ahead log ("store-id",
// "log-seq"); a version-2 relay must not open a version-3 file, whose log
// it would ignore. Version 4 added each queue's last-activity day and the
// "queue-activity" index, and the metadata bytes to "stats".
const (
	formatVersion  = 4
	oldestMigrated = 2
)

// migrate brings a file of layout version from up to formatVersion, in
// the transaction that opens it. now is the migration's time.
func migrate(tx *bolt.Tx, from byte, now uint64) error {
	// 2 → 3: the log's keys are created by initStore; nothing to rewrite.
	if from <= 3 {
		// 3 → 4: every queue counts as active now, so none is expired as
		// idle sooner than QueueIdleTTL after the upgrade.
		if err := migrateActivity(tx, now); err != nil {
			return fmt.Errorf("boltstore: migrate to layout 4: %w", err)
		}
		// Charge the sends whose records live to the byte budget.
		c := readCounts(tx)
		c.meta = int64(tx.Bucket(bucketSent).Stats().KeyN) * sendMetaBytes
		if err := writeCounts(tx, c); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketMeta).Put(keyVersion, []byte{formatVersion})
}

// migrateActivity appends the last-activity day to every queue record of
// layout 3 and indexes it. It runs in one transaction: a large store pays
// for it once, at the first start of the new relay.
func migrateActivity(tx *bolt.Tx, now uint64) error {
	queues, idx := tx.Bucket(bucketQueues), tx.Bucket(bucketActivity)
	day := dayOf(now)
	type kv struct{ k, v []byte }
	var todo []kv
	err := queues.ForEach(func(k, v []byte) error {
		if len(v) != queueRecordSizeV3 {
			return fmt.Errorf("queue record of %d bytes", len(v))
		}
		todo = append(todo, kv{bytes.Clone(k), binary.BigEndian.AppendUint64(bytes.Clone(v), day)})
		return nil
	})
	if err != nil {
		return err
	}
	for _, q := range todo {
		if err := errors.Join(queues.Put(q.k, q.v), idx.Put(cat(be64(day), q.k), nil)); err != nil {
			return err
		}
	}
	return nil
}

// dayOf is the Unix day of a Unix time: the queue activity's grain, so a
// busy queue moves in the index at most once a day.
func dayOf(unixTime uint64) uint64 { return unixTime / secondsPerDay }

const secondsPerDay = 24 * 60 * 60

const (
	u64  = 8
	idSz = store.IDSize

	// queueRecord: sender ID ‖ auth key ‖ flags ‖ last counter ‖ next seq
	// ‖ envelope count ‖ envelope bytes ‖ created ‖ last-activity day.
	queueRecordSize   = queueRecordSizeV3 + u64                     // 113
	queueRecordSizeV3 = idSz + 32 + 1 + u64 + u64 + u64 + u64 + u64 // 105, layout 3 and before

	envKeySize    = idSz + u64                 // recipient ‖ seq
	msgKeySize    = idSz + store.MessageIDSize // recipient ‖ message ID
	sentKeySize   = u64 + u64                  // stored time ‖ send number
	sentValueSize = envKeySize + store.MessageIDSize
	chunkHeadSize = u64 + 32 // expiry ‖ SHA-256(token)
	statsSize     = 6 * u64  // queues ‖ envelopes ‖ chunks ‖ bytes ‖ next send number ‖ metadata bytes
	statsSizeV3   = 5 * u64  // layout 3 and before: no metadata bytes
	envHeadSize   = u64      // stored time before the envelope
)

// sentFillPercent fills the append-only index's pages: bbolt's default
// (half) would leave every page it splits half empty.
const sentFillPercent = 1.0

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
	activeDay   uint64 // the Unix day of the owner's last creation, fetch or ack
}

func (q *queueRecord) encode() []byte {
	b := make([]byte, 0, queueRecordSize)
	b = append(b, q.sender[:]...)
	b = append(b, q.authKey[:]...)
	b = append(b, q.flags)
	for _, v := range [...]uint64{q.lastCounter, q.nextSeq, q.count, q.bytes, q.created, q.activeDay} {
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
	for _, v := range [...]*uint64{&q.lastCounter, &q.nextSeq, &q.count, &q.bytes, &q.created, &q.activeDay} {
		*v = binary.BigEndian.Uint64(r)
		r = r[u64:]
	}
	return q, nil
}

// sendMetaBytes is store.SendMetaBytes: what one stored send costs the
// relay's byte budget beyond its envelope, for as long as its "sent" entry
// lives (the envelope TTL, even after an ack or the queue's deletion). It
// is the message-ID record (48 B key, 8 B value) and the "sent" entry
// (16 B key, 56 B value), with bbolt's 16-byte leaf element header each;
// TestSendMetaBytes checks the sum. Page slack and branch pages are not
// counted: the budget stays a budget of data.
const sendMetaBytes = store.SendMetaBytes

// counts is the meta/"stats" value, kept in the same transaction as every
// change it counts. sends is the next send number of the "sent" index;
// meta is sendMetaBytes per "sent" entry.
type counts struct{ queues, envelopes, chunks, bytes, sends, meta int64 }

// used is what counts against MaxBytes.
func (c counts) used() int64 { return c.bytes + c.meta }

func readCounts(tx *bolt.Tx) counts {
	b := tx.Bucket(bucketMeta).Get(keyStats)
	if len(b) != statsSize && len(b) != statsSizeV3 {
		return counts{}
	}
	c := counts{
		queues:    int64(binary.BigEndian.Uint64(b)),
		envelopes: int64(binary.BigEndian.Uint64(b[u64:])),
		chunks:    int64(binary.BigEndian.Uint64(b[2*u64:])),
		bytes:     int64(binary.BigEndian.Uint64(b[3*u64:])),
		sends:     int64(binary.BigEndian.Uint64(b[4*u64:])),
	}
	if len(b) == statsSize {
		c.meta = int64(binary.BigEndian.Uint64(b[5*u64:]))
	}
	return c
}

func writeCounts(tx *bolt.Tx, c counts) error {
	b := make([]byte, 0, statsSize)
	for _, v := range [...]int64{c.queues, c.envelopes, c.chunks, c.bytes, c.sends, c.meta} {
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
