-- +goose Up
-- Retention: each channel's policy (jsonb, {} when it follows the server's default); the
-- channel of each delivery, so the delivery log is swept by its channel's policy; the indexes
-- the sweep walks (messages and ended deliveries of one channel, oldest first); each channel's
-- highest swept event sequence, which tells a reader asking for events at or below it that they
-- are gone; and leases, which elect one sweeper among replicas. (Columns with a constant
-- default are added without rewriting their table. The index builds block writes to their
-- table while they run: on a large database, create them beforehand with CREATE INDEX
-- CONCURRENTLY under the same names, and these statements skip them.)

ALTER TABLE channels ADD COLUMN retention jsonb NOT NULL DEFAULT '{}';
ALTER TABLE deliveries ADD COLUMN channel_id text COLLATE "C" NOT NULL DEFAULT '';

CREATE INDEX IF NOT EXISTS messages_channel_time ON messages (channel_id, create_time, id);
CREATE INDEX IF NOT EXISTS deliveries_ended ON deliveries (channel_id, create_time, seq)
    WHERE state != 'pending';

CREATE TABLE event_marks (
    channel_id    text COLLATE "C" PRIMARY KEY,
    swept_through bigint NOT NULL
);

CREATE TABLE leases (
    name        text COLLATE "C" PRIMARY KEY,
    holder      text COLLATE "C" NOT NULL,
    expire_time timestamptz NOT NULL
);

-- +goose Down
DROP TABLE leases;
DROP TABLE event_marks;
DROP INDEX deliveries_ended;
DROP INDEX messages_channel_time;
ALTER TABLE deliveries DROP COLUMN channel_id;
ALTER TABLE channels DROP COLUMN retention;
