-- The bare ingest transaction's tables for pgbench (scripts/ceiling/ingest.pgbench), in a schema of their
-- own: a stored message (a redelivery stores nothing), the conversation's activity, the event.
DROP SCHEMA IF EXISTS bench_ceiling CASCADE;
CREATE SCHEMA bench_ceiling;
CREATE TABLE bench_ceiling.conversations (id bigint PRIMARY KEY, epoch bigint NOT NULL, last_activity timestamptz NOT NULL);
CREATE TABLE bench_ceiling.messages (channel_id text NOT NULL, channel_message_id text NOT NULL,
	conversation_id bigint NOT NULL, content jsonb NOT NULL, PRIMARY KEY (channel_id, channel_message_id));
CREATE TABLE bench_ceiling.events (seq bigserial PRIMARY KEY, conversation_id bigint NOT NULL, type text NOT NULL,
	payload jsonb NOT NULL, position bigint UNIQUE);
INSERT INTO bench_ceiling.conversations SELECT g, 1, now() FROM generate_series(1, 1000) g;
