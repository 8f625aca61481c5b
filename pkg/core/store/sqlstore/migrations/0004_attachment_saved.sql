-- SPDX-License-Identifier: AGPL-3.0-or-later
-- Hush client store, schema 4: which received attachments were saved.

-- 1 once the user (or hush listen --save-dir) saved a plaintext copy of
-- a downloaded attachment. Attachments downloaded before this schema
-- count as saved: a client that starts saving does not go back over
-- everything it held before.
ALTER TABLE attachments ADD COLUMN saved INTEGER NOT NULL DEFAULT 0;
UPDATE attachments SET saved = 1 WHERE direction = 1 AND state = 4;
CREATE INDEX attachments_unsaved ON attachments (contact, message) WHERE direction = 1 AND state = 4 AND saved = 0;
