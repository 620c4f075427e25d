-- +goose Up
-- Automatic handoff policies on bots and channels, the unanswered SLA of queues, and what
-- the timers act on: a conversation's run of "not understood" statuses and the deadline of
-- its bot's silence; a handover's SLA deadlines and breaches (its priority came with routing,
-- 00009). Zero times are 0.

ALTER TABLE bots ADD COLUMN auto_handoff TEXT NOT NULL DEFAULT '{}';
ALTER TABLE channels ADD COLUMN auto_handoff TEXT NOT NULL DEFAULT '{}';
ALTER TABLE queues ADD COLUMN sla TEXT NOT NULL DEFAULT '{}';

ALTER TABLE conversations ADD COLUMN not_understood_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN unanswered_deadline INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN sla_breach_time INTEGER NOT NULL DEFAULT 0;
CREATE INDEX conversations_unanswered ON conversations (unanswered_deadline, id) WHERE unanswered_deadline != 0;

ALTER TABLE handovers ADD COLUMN sla_wait_deadline INTEGER NOT NULL DEFAULT 0;
ALTER TABLE handovers ADD COLUMN sla_reply_deadline INTEGER NOT NULL DEFAULT 0;
ALTER TABLE handovers ADD COLUMN sla_breaches TEXT NOT NULL DEFAULT '[]';
ALTER TABLE handovers ADD COLUMN supervisors INTEGER NOT NULL DEFAULT 0;
CREATE INDEX handovers_sla ON handovers (create_time, id) WHERE sla_wait_deadline != 0 OR sla_reply_deadline != 0;

-- +goose Down
DROP INDEX handovers_sla;
ALTER TABLE handovers DROP COLUMN sla_wait_deadline;
ALTER TABLE handovers DROP COLUMN sla_reply_deadline;
ALTER TABLE handovers DROP COLUMN sla_breaches;
ALTER TABLE handovers DROP COLUMN supervisors;
DROP INDEX conversations_unanswered;
ALTER TABLE conversations DROP COLUMN not_understood_count;
ALTER TABLE conversations DROP COLUMN unanswered_deadline;
ALTER TABLE conversations DROP COLUMN sla_breach_time;
ALTER TABLE queues DROP COLUMN sla;
ALTER TABLE channels DROP COLUMN auto_handoff;
ALTER TABLE bots DROP COLUMN auto_handoff;
