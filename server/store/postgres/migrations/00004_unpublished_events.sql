-- +goose Up
-- Publish numbers each event once, after it is stored: an UPDATE of position, which writes a new
-- version of the row into every index. The indexes on position hold published events alone, so
-- the insert does not write them too. Unpublished events have an index of their own, which
-- stays small: an event leaves it when it is numbered, whereas its NULL entries in the position
-- index lingered until vacuum and made Publish, which looked for NULLs there, slower with every
-- event published.
ALTER TABLE events DROP CONSTRAINT events_position_key;
CREATE UNIQUE INDEX events_position ON events (position) WHERE position IS NOT NULL;
CREATE INDEX events_unpublished ON events (seq) WHERE position IS NULL;
DROP INDEX events_conversation, events_bot, events_channel;
CREATE INDEX events_conversation ON events (conversation_id, position) WHERE position IS NOT NULL;
CREATE INDEX events_bot ON events (bot_id, position) WHERE position IS NOT NULL;
CREATE INDEX events_channel ON events (channel_id, position) WHERE position IS NOT NULL;

-- +goose Down
DROP INDEX events_conversation, events_bot, events_channel, events_unpublished, events_position;
CREATE INDEX events_conversation ON events (conversation_id, position);
CREATE INDEX events_bot ON events (bot_id, position);
CREATE INDEX events_channel ON events (channel_id, position);
ALTER TABLE events ADD CONSTRAINT events_position_key UNIQUE (position);
