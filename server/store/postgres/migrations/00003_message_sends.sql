-- +goose Up
-- Outbound messages are sent through their channel by Baton: stored pending, claimed (leased)
-- by a sender, then sent, retried later or failed with the channel's error. Delivery receipts
-- move them on to delivered and read. Existing rows get no error and no bookkeeping.
-- (Columns with constant defaults are added without rewriting the table.)

ALTER TABLE messages
    ADD COLUMN error text NOT NULL DEFAULT '',
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_time timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00',
    ADD COLUMN lease_expire_time timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00';

-- Before this migration nothing sent outbound messages: the ones stored until now went out
-- as events only. They are marked sent, or the first start would send the whole history.
UPDATE messages SET status = 'sent' WHERE direction = 'outbound' AND status = 'pending';

-- Both indexes are partial, so storing an inbound message (ingest) maintains neither. The
-- pending outbound messages alone, oldest first: what claims walk.
CREATE INDEX messages_sends ON messages (create_time, id)
    WHERE direction = 'outbound' AND status = 'pending';
-- Each conversation's outbound messages not yet read or failed, by status, oldest first: how a
-- claim finds whether a message is its conversation's head (its pending ones), and what a
-- delivery or read watermark covers. Queries repeat the condition as it is written here so
-- that generic plans may use the index too.
CREATE INDEX messages_outbound_open ON messages (conversation_id, status, create_time, id)
    WHERE direction = 'outbound' AND status IN ('pending', 'sent', 'delivered');

-- +goose Down
DROP INDEX messages_outbound_open;
DROP INDEX messages_sends;
ALTER TABLE messages
    DROP COLUMN lease_expire_time,
    DROP COLUMN next_attempt_time,
    DROP COLUMN attempts,
    DROP COLUMN error;
