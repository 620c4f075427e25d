-- +goose Up
-- Erasure of a contact's data (docs/privacy.md). A message's tombstone is marked erased (a
-- column with a constant default is added without rewriting the table). Each erasure is
-- recorded when it starts, so that one cut short is finished later. Events with no
-- conversation (contact-wide mutes) get an index by channel, which an erasure searches besides
-- the conversation's events; conversation events, the bulk of the log, stay out of it.

ALTER TABLE messages ADD COLUMN erased boolean NOT NULL DEFAULT false;

CREATE TABLE erasures (
    contact_id      text COLLATE "C" PRIMARY KEY,
    channel_id      text COLLATE "C" NOT NULL,
    conversation_id text COLLATE "C" NOT NULL,
    actor_kind      text NOT NULL,
    actor_id        text NOT NULL,
    create_time     timestamptz NOT NULL,
    complete_time   timestamptz NOT NULL
);
CREATE INDEX erasures_unfinished ON erasures (create_time, contact_id)
    WHERE complete_time = '0001-01-01 00:00:00+00';

CREATE INDEX events_without_conversation ON events (channel_id, position) WHERE conversation_id = '';

-- +goose Down
DROP INDEX events_without_conversation;
DROP TABLE erasures;
ALTER TABLE messages DROP COLUMN erased;
