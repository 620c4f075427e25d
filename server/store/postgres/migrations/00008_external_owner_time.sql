-- +goose Up
-- When, by the channel's clock, the channel last reported who answers a conversation (Meta's
-- handover protocol, a human replying from the channel's inbox): a report older than it,
-- delivered late, moves nobody. The zero time until the channel says. (A column with a
-- constant default is added without rewriting the table.)

ALTER TABLE conversations
    ADD COLUMN external_owner_time timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00';

-- +goose Down
ALTER TABLE conversations DROP COLUMN external_owner_time;
