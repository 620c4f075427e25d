-- +goose Up
-- Routing rules, evaluated in position order; channel_id is '' for a global rule. Conditions
-- and action are JSON: only the domain reads them, and they grow with new kinds of condition.

CREATE TABLE routing_rules (
    id           TEXT PRIMARY KEY,
    display_name TEXT NOT NULL DEFAULT '',
    channel_id   TEXT NOT NULL DEFAULT '',
    position     INTEGER NOT NULL DEFAULT 0,
    disabled     INTEGER NOT NULL DEFAULT 0,
    conditions   TEXT NOT NULL DEFAULT '{}',
    action       TEXT NOT NULL DEFAULT '{}',
    create_time  INTEGER NOT NULL DEFAULT 0,
    update_time  INTEGER NOT NULL DEFAULT 0,
    revision     INTEGER NOT NULL DEFAULT 0
) STRICT;

-- +goose Down
DROP TABLE routing_rules;
