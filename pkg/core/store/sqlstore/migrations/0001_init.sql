-- SPDX-License-Identifier: AGPL-3.0-or-later
-- Hush client store, schema 1. Times are Unix milliseconds (UTC); flags
-- are 0 or 1; keys and IDs are raw bytes. The whole file is encrypted by
-- SQLCipher.

-- The profile's own identity: one row.
CREATE TABLE profile (
	id              INTEGER PRIMARY KEY CHECK (id = 1),
	identity_secret TEXT    NOT NULL, -- identity.PrivateKey.EncodeSecret
	registration_id INTEGER NOT NULL
);

-- libsignal's serialized records (session.Store).
CREATE TABLE remote_identities (address TEXT PRIMARY KEY, key BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE prekeys (id INTEGER PRIMARY KEY, record BLOB NOT NULL);
CREATE TABLE signed_prekeys (id INTEGER PRIMARY KEY, record BLOB NOT NULL);
CREATE TABLE sessions (address TEXT PRIMARY KEY, record BLOB NOT NULL) WITHOUT ROWID;

CREATE TABLE contacts (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	name     TEXT    NOT NULL,
	identity BLOB    NOT NULL,
	verified INTEGER NOT NULL,
	blocked  INTEGER NOT NULL,
	created  INTEGER NOT NULL
);

-- The client's own queues (mailbox.Queue) and their secrets.
CREATE TABLE queues (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	contact         INTEGER REFERENCES contacts (id) ON DELETE SET NULL,
	relay           BLOB    NOT NULL,
	recipient_id    BLOB    NOT NULL UNIQUE,
	sender_id       BLOB    NOT NULL,
	auth_seed       BLOB    NOT NULL,
	counter         INTEGER NOT NULL,
	contact_request INTEGER NOT NULL,
	created         INTEGER NOT NULL
);
CREATE INDEX queues_contact ON queues (contact);

-- Where each contact receives: the queue address we send to.
CREATE TABLE targets (
	contact   INTEGER PRIMARY KEY REFERENCES contacts (id) ON DELETE CASCADE,
	relay     BLOB    NOT NULL,
	sender_id BLOB    NOT NULL
);

CREATE TABLE messages (
	contact     INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
	id          BLOB    NOT NULL,
	direction   INTEGER NOT NULL,
	sent_at     INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	at          INTEGER NOT NULL, -- received_at, or sent_at if outgoing
	kind        INTEGER NOT NULL,
	body        BLOB    NOT NULL,
	state       INTEGER NOT NULL,
	pinned      INTEGER NOT NULL,
	PRIMARY KEY (contact, id)
) WITHOUT ROWID;
CREATE INDEX messages_history ON messages (contact, at, id);

CREATE TABLE outbox (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	send_id      BLOB    NOT NULL UNIQUE,
	relay        BLOB    NOT NULL,
	sender_id    BLOB    NOT NULL,
	contact      INTEGER REFERENCES contacts (id) ON DELETE CASCADE,
	message      BLOB    NOT NULL,
	envelope     BLOB    NOT NULL,
	attempts     INTEGER NOT NULL,
	next_attempt INTEGER NOT NULL,
	created      INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt, id);

-- Envelopes already processed, by SHA-256.
CREATE TABLE processed (hash BLOB PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX processed_at ON processed (at);

CREATE TABLE settings (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;

-- Invitations this profile accepted (invite.Ledger).
CREATE TABLE accepted_invitations (id BLOB PRIMARY KEY, expires INTEGER NOT NULL) WITHOUT ROWID;

-- Entry guards, first choice first (path.GuardStore).
CREATE TABLE guards (position INTEGER PRIMARY KEY, relay BLOB NOT NULL, added INTEGER NOT NULL);
