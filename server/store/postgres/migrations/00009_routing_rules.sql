-- +goose Up
-- Routing rules, evaluated in position order; channel_id is '' for a global rule. Conditions
-- and action are JSON: only the domain reads them, and they grow with new kinds of condition.

CREATE TABLE routing_rules (
    id           text COLLATE "C" PRIMARY KEY,
    display_name text NOT NULL,
    channel_id   text COLLATE "C" NOT NULL,
    position     integer NOT NULL,
    disabled     boolean NOT NULL,
    conditions   jsonb NOT NULL,
    action       jsonb NOT NULL,
    create_time  timestamptz NOT NULL,
    update_time  timestamptz NOT NULL,
    revision     bigint NOT NULL
);

-- +goose Down
DROP TABLE routing_rules;
