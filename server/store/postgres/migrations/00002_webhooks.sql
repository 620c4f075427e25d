-- +goose Up
-- Webhooks replace the bots' single URL: a bot has at most one, firehoses (no bot) any number.
-- Each event recorded for a webhook is a delivery, written by the statement that stores the
-- event, with the log of its attempts.

ALTER TABLE bots DROP COLUMN webhook_url, ADD COLUMN unreachable boolean NOT NULL DEFAULT false;

-- event_types and channel_ids are jsonb lists, [] when the webhook does not filter.
CREATE TABLE webhooks (
    id                          text COLLATE "C" PRIMARY KEY,
    bot_id                      text COLLATE "C" NOT NULL,
    url                         text NOT NULL,
    event_types                 jsonb NOT NULL,
    channel_ids                 jsonb NOT NULL,
    state                       text NOT NULL,
    inactive_reason             text NOT NULL,
    inactive_policy             text NOT NULL,
    consecutive_failures        integer NOT NULL,
    secret                      text NOT NULL,
    previous_secret             text NOT NULL,
    previous_secret_expire_time timestamptz NOT NULL,
    verify_time                 timestamptz NOT NULL,
    create_time                 timestamptz NOT NULL,
    update_time                 timestamptz NOT NULL,
    revision                    bigint NOT NULL
);
-- Recording an event looks up the firehoses ('') and its bot's webhook.
CREATE INDEX webhooks_bot ON webhooks (bot_id, create_time, id);
CREATE UNIQUE INDEX webhooks_one_per_bot ON webhooks (bot_id) WHERE bot_id != '';

-- seq is the insertion order, which is the order a webhook's deliveries of one conversation
-- leave in: a conversation's Writes are serialised, so they insert its deliveries in commit
-- order. No foreign keys: every Write that stores events inserts deliveries, and a key check
-- would share-lock the webhook's row from all of them.
CREATE TABLE deliveries (
    seq               bigint GENERATED ALWAYS AS IDENTITY,
    id                text COLLATE "C" PRIMARY KEY,
    webhook_id        text COLLATE "C" NOT NULL,
    event_id          text COLLATE "C" NOT NULL,
    event_type        text NOT NULL,
    conversation_id   text COLLATE "C" NOT NULL,
    state             text NOT NULL,
    attempts          integer NOT NULL,
    failures          integer NOT NULL,
    next_attempt_time timestamptz NOT NULL,
    lease_expire_time timestamptz NOT NULL,
    trace_parent      text NOT NULL,
    create_time       timestamptz NOT NULL,
    update_time       timestamptz NOT NULL
);
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, seq);
CREATE INDEX deliveries_conversation ON deliveries (webhook_id, conversation_id, seq);
-- The pending deliveries alone: each webhook's in order (what claims walk), and each
-- conversation's in order (how a claim finds whether a delivery is its conversation's head).
CREATE INDEX deliveries_due ON deliveries (webhook_id, seq) WHERE state = 'pending';
CREATE INDEX deliveries_pending ON deliveries (webhook_id, conversation_id, seq) WHERE state = 'pending';

CREATE TABLE delivery_attempts (
    delivery_id text COLLATE "C" NOT NULL,
    number      integer NOT NULL,
    time        timestamptz NOT NULL,
    status_code integer NOT NULL,
    error       text NOT NULL,
    latency     interval NOT NULL,
    PRIMARY KEY (delivery_id, number)
);

-- +goose Down
DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE webhooks;
ALTER TABLE bots DROP COLUMN unreachable, ADD COLUMN webhook_url text NOT NULL DEFAULT '';
