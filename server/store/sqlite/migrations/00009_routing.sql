-- +goose Up
-- What routing decided for a handover (its priority, the rule and why), and where the customer
-- came from (the entry point the channel reported). Waiting handovers are offered by priority,
-- highest first, then the longest waiting.

ALTER TABLE handovers ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE handovers ADD COLUMN rule_id TEXT NOT NULL DEFAULT '';
ALTER TABLE handovers ADD COLUMN route_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN entry_point TEXT NOT NULL DEFAULT '';
CREATE INDEX handovers_waiting ON handovers (state, (-priority), create_time, id);

-- +goose Down
DROP INDEX handovers_waiting;
ALTER TABLE conversations DROP COLUMN entry_point;
ALTER TABLE handovers DROP COLUMN route_reason;
ALTER TABLE handovers DROP COLUMN rule_id;
ALTER TABLE handovers DROP COLUMN priority;
