-- +goose Up
-- When, by the channel's clock, the channel last reported who answers a conversation (Meta's
-- handover protocol, a human replying from the channel's inbox): a report older than it,
-- delivered late, moves nobody. 0 until the channel says.

ALTER TABLE conversations ADD COLUMN external_owner_time INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE conversations DROP COLUMN external_owner_time;
