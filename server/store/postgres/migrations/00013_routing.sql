-- +goose Up
-- What routing decided for a handover (its priority, the rule and why), and where the customer
-- came from (the entry point the channel reported). Waiting handovers are offered by priority,
-- highest first, then the longest waiting. (Columns with constant defaults are added without
-- rewriting the tables.)

ALTER TABLE handovers
    ADD COLUMN priority integer NOT NULL DEFAULT 0,
    ADD COLUMN rule_id text COLLATE "C" NOT NULL DEFAULT '',
    ADD COLUMN route_reason text NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN entry_point text NOT NULL DEFAULT '';
CREATE INDEX handovers_waiting ON handovers (state, (-priority), create_time, id);

-- +goose Down
DROP INDEX handovers_waiting;
ALTER TABLE conversations DROP COLUMN entry_point;
ALTER TABLE handovers DROP COLUMN route_reason, DROP COLUMN rule_id, DROP COLUMN priority;
