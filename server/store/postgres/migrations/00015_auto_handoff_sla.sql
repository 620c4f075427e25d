-- +goose Up
-- Automatic handoff policies on bots and channels, the unanswered SLA of queues, and what
-- the timers act on: a conversation's run of "not understood" statuses and the deadline of
-- its bot's silence; a handover's SLA deadlines and breaches (its priority came with routing,
-- 00013). Zero times are year 1.

ALTER TABLE bots ADD COLUMN auto_handoff jsonb NOT NULL DEFAULT '{}';
ALTER TABLE channels ADD COLUMN auto_handoff jsonb NOT NULL DEFAULT '{}';
ALTER TABLE queues ADD COLUMN sla jsonb NOT NULL DEFAULT '{}';

ALTER TABLE conversations
    ADD COLUMN not_understood_count integer NOT NULL DEFAULT 0,
    ADD COLUMN unanswered_deadline timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00',
    ADD COLUMN sla_breach_time timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00';
CREATE INDEX conversations_unanswered ON conversations (unanswered_deadline, id)
    WHERE unanswered_deadline != '0001-01-01 00:00:00+00';

ALTER TABLE handovers
    ADD COLUMN sla_wait_deadline timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00',
    ADD COLUMN sla_reply_deadline timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00',
    ADD COLUMN sla_breaches jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN supervisors boolean NOT NULL DEFAULT false;
-- Only handovers with a deadline pending are indexed: the SLA timer's scan stays small.
CREATE INDEX handovers_sla ON handovers (create_time, id)
    WHERE sla_wait_deadline != '0001-01-01 00:00:00+00' OR sla_reply_deadline != '0001-01-01 00:00:00+00';

-- +goose Down
DROP INDEX handovers_sla;
ALTER TABLE handovers DROP COLUMN sla_wait_deadline, DROP COLUMN sla_reply_deadline,
    DROP COLUMN sla_breaches, DROP COLUMN supervisors;
DROP INDEX conversations_unanswered;
ALTER TABLE conversations DROP COLUMN not_understood_count, DROP COLUMN unanswered_deadline, DROP COLUMN sla_breach_time;
ALTER TABLE queues DROP COLUMN sla;
ALTER TABLE channels DROP COLUMN auto_handoff;
ALTER TABLE bots DROP COLUMN auto_handoff;
