-- +goose Up
-- A queue's policy: business hours and customer acknowledgements, as JSON (only the domain
-- reads it). A handover records what a closed queue made of it.

ALTER TABLE queues ADD COLUMN policy TEXT NOT NULL DEFAULT '{}';
ALTER TABLE handovers ADD COLUMN out_of_hours TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE handovers DROP COLUMN out_of_hours;
ALTER TABLE queues DROP COLUMN policy;
