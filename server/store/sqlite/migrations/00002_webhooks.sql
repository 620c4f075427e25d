-- +goose Up
-- Webhooks replace the bots' single URL: a bot has at most one, firehoses (no bot) any number.
-- Each event recorded for a webhook is a delivery, written in the transaction that stores the
-- event, with the log of its attempts.

ALTER TABLE bots DROP COLUMN webhook_url;
ALTER TABLE bots ADD COLUMN unreachable INTEGER NOT NULL DEFAULT 0;

-- event_types and channel_ids are JSON lists, [] when the webhook does not filter.
CREATE TABLE webhooks (
    id                          TEXT PRIMARY KEY,
    bot_id                      TEXT NOT NULL DEFAULT '',
    url                         TEXT NOT NULL DEFAULT '',
    event_types                 TEXT NOT NULL DEFAULT '[]',
    channel_ids                 TEXT NOT NULL DEFAULT '[]',
    state                       TEXT NOT NULL DEFAULT '',
    inactive_reason             TEXT NOT NULL DEFAULT '',
    inactive_policy             TEXT NOT NULL DEFAULT '',
    consecutive_failures        INTEGER NOT NULL DEFAULT 0,
    secret                      TEXT NOT NULL DEFAULT '',
    previous_secret             TEXT NOT NULL DEFAULT '',
    previous_secret_expire_time INTEGER NOT NULL DEFAULT 0,
    verify_time                 INTEGER NOT NULL DEFAULT 0,
    create_time                 INTEGER NOT NULL DEFAULT 0,
    update_time                 INTEGER NOT NULL DEFAULT 0,
    revision                    INTEGER NOT NULL DEFAULT 0
) STRICT;
-- Recording an event looks up the firehoses ('') and its bot's webhook.
CREATE INDEX webhooks_bot ON webhooks (bot_id, create_time, id);
CREATE UNIQUE INDEX webhooks_one_per_bot ON webhooks (bot_id) WHERE bot_id != '';

-- seq is the insertion order, which is the order a webhook's deliveries of one conversation
-- leave in. No foreign keys: recording deliveries is on the path of every write.
CREATE TABLE deliveries (
    seq               INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    webhook_id        TEXT NOT NULL,
    event_id          TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    conversation_id   TEXT NOT NULL DEFAULT '',
    state             TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    failures          INTEGER NOT NULL DEFAULT 0,
    next_attempt_time INTEGER NOT NULL DEFAULT 0,
    lease_expire_time INTEGER NOT NULL DEFAULT 0,
    trace_parent      TEXT NOT NULL DEFAULT '',
    create_time       INTEGER NOT NULL DEFAULT 0,
    update_time       INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, seq);
CREATE INDEX deliveries_conversation ON deliveries (webhook_id, conversation_id, seq);
-- The pending deliveries alone: each webhook's in order (what claims walk), and each
-- conversation's in order (how a claim finds whether a delivery is its conversation's head).
CREATE INDEX deliveries_due ON deliveries (webhook_id, seq) WHERE state = 'pending';
CREATE INDEX deliveries_pending ON deliveries (webhook_id, conversation_id, seq) WHERE state = 'pending';

CREATE TABLE delivery_attempts (
    delivery_id TEXT NOT NULL,
    number      INTEGER NOT NULL,
    time        INTEGER NOT NULL DEFAULT 0,
    status_code INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    latency     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (delivery_id, number)
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE webhooks;
ALTER TABLE bots DROP COLUMN unreachable;
ALTER TABLE bots ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
