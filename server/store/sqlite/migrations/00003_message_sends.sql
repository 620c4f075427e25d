-- +goose Up
-- Outbound messages are sent through their channel by Baton: stored pending, claimed (leased)
-- by a sender, then sent, retried later or failed with the channel's error. Delivery receipts
-- move them on to delivered and read. Existing rows get no error and no bookkeeping.

ALTER TABLE messages ADD COLUMN error TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN next_attempt_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN lease_expire_time INTEGER NOT NULL DEFAULT 0;

-- Before this migration nothing sent outbound messages: the ones stored until now went out
-- as events only. They are marked sent, or the first start would send the whole history.
UPDATE messages SET status = 'sent' WHERE direction = 'outbound' AND status = 'pending';

-- Both indexes are partial, so storing an inbound message (ingest) maintains neither. The
-- pending outbound messages alone, oldest first: what claims walk.
CREATE INDEX messages_sends ON messages (create_time, id)
    WHERE direction = 'outbound' AND status = 'pending';
-- Each conversation's outbound messages not yet read or failed, by status, oldest first: how a
-- claim finds whether a message is its conversation's head (its pending ones), and what a
-- delivery or read watermark covers. Queries repeat the condition as it is written here (ORs,
-- not IN) so that SQLite may use the index.
CREATE INDEX messages_outbound_open ON messages (conversation_id, status, create_time, id)
    WHERE direction = 'outbound' AND (status = 'pending' OR status = 'sent' OR status = 'delivered');

-- +goose Down
DROP INDEX messages_outbound_open;
DROP INDEX messages_sends;
ALTER TABLE messages DROP COLUMN lease_expire_time;
ALTER TABLE messages DROP COLUMN next_attempt_time;
ALTER TABLE messages DROP COLUMN attempts;
ALTER TABLE messages DROP COLUMN error;
