-- +goose Up
-- Erasure of a contact's data (docs/privacy.md). A message's tombstone is marked erased. Each
-- erasure is recorded when it starts, so that one cut short is finished later. Events with no
-- conversation (contact-wide mutes) get an index by channel, which an erasure searches besides
-- the conversation's events; conversation events, the bulk of the log, stay out of it.

ALTER TABLE messages ADD COLUMN erased INTEGER NOT NULL DEFAULT 0;

CREATE TABLE erasures (
    contact_id      TEXT PRIMARY KEY,
    channel_id      TEXT NOT NULL,
    conversation_id TEXT NOT NULL DEFAULT '',
    actor_kind      TEXT NOT NULL DEFAULT '',
    actor_id        TEXT NOT NULL DEFAULT '',
    create_time     INTEGER NOT NULL DEFAULT 0,
    complete_time   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX erasures_unfinished ON erasures (create_time, contact_id) WHERE complete_time = 0;

CREATE INDEX events_without_conversation ON events (channel_id, sequence) WHERE conversation_id = '';

-- +goose Down
DROP INDEX events_without_conversation;
DROP TABLE erasures;
ALTER TABLE messages DROP COLUMN erased;
