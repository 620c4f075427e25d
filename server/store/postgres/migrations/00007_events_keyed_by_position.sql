-- +goose Up
-- Since events are numbered as they commit, position is their key and their order: seq, the
-- insertion order, only cost an identity value and an index entry per event. (Replicas of an
-- older version still running once this has run fail where they order owner changes by seq:
-- upgrade them together.)
ALTER TABLE events DROP CONSTRAINT events_pkey;
CREATE UNIQUE INDEX events_pkey ON events (position);
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_pkey;
DROP INDEX events_position, events_owner_changes;
CREATE INDEX events_owner_changes ON events (conversation_id, position)
    WHERE type = 'conversation.owner_changed';
ALTER TABLE events DROP COLUMN seq;

-- +goose Down
ALTER TABLE events ADD COLUMN seq bigint;
UPDATE events SET seq = position;
ALTER TABLE events ALTER COLUMN seq SET NOT NULL;
ALTER TABLE events ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY;
SELECT setval(pg_get_serial_sequence('events', 'seq'), coalesce(max(seq), 0) + 1, false) FROM events;
DROP INDEX events_owner_changes;
CREATE INDEX events_owner_changes ON events (conversation_id, seq)
    WHERE type = 'conversation.owner_changed';
CREATE UNIQUE INDEX events_position ON events (position) WHERE position IS NOT NULL;
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ADD PRIMARY KEY (seq);
