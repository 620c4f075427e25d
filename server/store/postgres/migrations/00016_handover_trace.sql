-- +goose Up
-- The W3C traceparent of the handoff that began each handover: the spans of its later steps
-- link to it, so that one handover's lifecycle reads as one trace. Older handovers have none.
-- (A column with a constant default is added without rewriting the table.)
ALTER TABLE handovers ADD COLUMN trace_parent text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE handovers DROP COLUMN trace_parent;
