-- SPDX-License-Identifier: AGPL-3.0-or-later
-- Hush client store, schema 3: when the disappearing timer last changed.

-- Per contact: the sender's time (Unix milliseconds) of the timer change
-- now in force, so that a change overtaken on the network by an older
-- one is not undone by it; 0 is never changed.
ALTER TABLE contacts ADD COLUMN disappear_changed INTEGER NOT NULL DEFAULT 0;
