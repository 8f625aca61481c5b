-- SPDX-License-Identifier: AGPL-3.0-or-later
-- Hush client store, schema 2: attachment transfers, disappearing and
-- retention timers.

-- Per contact: the disappearing timer both sides apply (synced through a
-- content message) and the local retention, in milliseconds; 0 is off.
ALTER TABLE contacts ADD COLUMN disappear INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN retention INTEGER NOT NULL DEFAULT 0;

-- When a message disappears (Unix milliseconds); 0 is never.
ALTER TABLE messages ADD COLUMN expires INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_expiry ON messages (expires) WHERE expires > 0;

-- One row per attachment of a message: its transfer to or from the
-- relays and the file (in the profile's attachment directory) that holds
-- its chunks, encrypted under the attachment's key from the message.
CREATE TABLE attachments (
	contact      INTEGER NOT NULL,
	message      BLOB    NOT NULL,
	direction    INTEGER NOT NULL,
	state        INTEGER NOT NULL,
	file         TEXT    NOT NULL UNIQUE,
	done         INTEGER NOT NULL, -- upload: chunks known stored
	attempts     INTEGER NOT NULL,
	next_attempt INTEGER NOT NULL,
	error        TEXT    NOT NULL,
	PRIMARY KEY (contact, message),
	FOREIGN KEY (contact, message) REFERENCES messages (contact, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX attachments_due ON attachments (next_attempt) WHERE state IN (1, 3);
