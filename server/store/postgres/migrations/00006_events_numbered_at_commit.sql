-- +goose Up
-- Events are numbered as their transaction commits, under the numbering lock, rather than by a
-- publisher rewriting them after commit: a rewrite stored every event twice. The events a
-- publisher had not numbered yet are numbered here, in insertion order. (Replicas of an older
-- version must stop before this runs: their events, inserted unnumbered, would be refused.
-- Their publisher is locked out meanwhile.)
LOCK TABLE events IN ACCESS EXCLUSIVE MODE;
WITH last AS (
    SELECT coalesce(max(position), 0) AS position FROM events
), unpublished AS (
    SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM events WHERE position IS NULL
)
UPDATE events e SET position = last.position + u.n FROM last, unpublished u WHERE e.seq = u.seq;
DROP INDEX events_unpublished;
ALTER TABLE events ALTER COLUMN position SET NOT NULL;

-- +goose Down
ALTER TABLE events ALTER COLUMN position DROP NOT NULL;
CREATE INDEX events_unpublished ON events (seq) WHERE position IS NULL;
