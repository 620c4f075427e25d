-- The minimal ingest transaction's tables (minimal.pgbench), in the schema the search_path names:
-- a stored message (a redelivery stores nothing), the conversation's activity, the event, each
-- with a key and nothing else.
CREATE TABLE conversations (id bigint PRIMARY KEY, epoch bigint NOT NULL, last_activity timestamptz NOT NULL);
CREATE TABLE messages (channel_id text NOT NULL, channel_message_id text NOT NULL,
	conversation_id bigint NOT NULL, content jsonb NOT NULL, PRIMARY KEY (channel_id, channel_message_id));
CREATE TABLE events (seq bigserial PRIMARY KEY, conversation_id bigint NOT NULL, type text NOT NULL,
	payload jsonb NOT NULL, position bigint UNIQUE);
INSERT INTO conversations SELECT g, 1, now() FROM generate_series(1, 1000) g;
