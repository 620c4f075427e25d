-- +goose Up
-- Retention: each channel's policy (JSON, {} when it follows the server's default); the channel
-- of each delivery, so the delivery log is swept by its channel's policy; the indexes the sweep
-- walks (messages and ended deliveries of one channel, oldest first); each channel's highest
-- swept event sequence, which tells a reader asking for events at or below it that they are
-- gone; and leases, which elect one sweeper among replicas.

ALTER TABLE channels ADD COLUMN retention TEXT NOT NULL DEFAULT '{}';
ALTER TABLE deliveries ADD COLUMN channel_id TEXT NOT NULL DEFAULT '';

CREATE INDEX messages_channel_time ON messages (channel_id, create_time, id);
CREATE INDEX deliveries_ended ON deliveries (channel_id, create_time, seq) WHERE state != 'pending';

CREATE TABLE event_marks (
    channel_id TEXT PRIMARY KEY,
    swept_through INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expire_time INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE leases;
DROP TABLE event_marks;
DROP INDEX deliveries_ended;
DROP INDEX messages_channel_time;
ALTER TABLE deliveries DROP COLUMN channel_id;
ALTER TABLE channels DROP COLUMN retention;
