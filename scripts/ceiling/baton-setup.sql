-- The rows Baton's ingest transaction (baton.pgbench) works on, in a schema that `baton migrate`
-- created: a generic channel with its bot, and 1,000 customers, each with a conversation the bot
-- owns and ten messages in it, each announced by an event, numbered. (Tables with rows in them when the
-- statements are first planned, as they would be in service: on empty tables, PostgreSQL would
-- plan to scan them whole, and keep that plan as they grow.)
INSERT INTO bots (id, display_name, active, standby, create_time, update_time, revision)
	VALUES ('bot-ceiling', 'ceiling', true, false, now(), now(), 0);
INSERT INTO channels (id, kind, external_id, display_name, bot_id, default_queue_id, session_timeout, credentials,
		create_time, update_time, revision)
	VALUES ('ch-ceiling', 'generic', 'ceiling', '', 'bot-ceiling', 'default', '24 hours', '{}', now(), now(), 0);
INSERT INTO contacts (id, channel_id, external_id, display_name, locale, attributes, bot_muted_until, create_time,
		update_time, revision)
	SELECT 'ct-' || i, 'ch-ceiling', 'customer-' || i, 'Customer ' || i, '', '{}', '0001-01-01Z', now(), now(), 0
	FROM generate_series(0, 999) i;
INSERT INTO conversations (id, channel_id, contact_id, bot_id, owner_kind, owner_id, epoch, state, status, tags,
		language, active_handover_id, bot_enabled, bot_muted_until, last_activity_time, last_inbound_time,
		last_outbound_time, create_time, update_time, revision)
	SELECT 'conv-' || i, 'ch-ceiling', 'ct-' || i, 'bot-ceiling', 'bot', 'bot-ceiling', 1, 'open', 'ok', '[]',
		'', '', true, '0001-01-01Z', now(), now(), '0001-01-01Z', now(), now(), 0
	FROM generate_series(0, 999) i;
INSERT INTO messages (id, conversation_id, channel_id, direction, sender_kind, sender_id, content, channel_message_id,
		request_id, status, epoch, create_time, error, attempts, next_attempt_time, lease_expire_time)
	SELECT 'msg-setup-' || i || '-' || j, 'conv-' || i, 'ch-ceiling', 'inbound', 'customer', 'ct-' || i,
		'{"text":{"text":"hello"}}', 'setup-' || i || '-' || j, '', 'delivered', 1, now(), '', 0, '0001-01-01Z', '0001-01-01Z'
	FROM generate_series(0, 999) i, generate_series(1, 10) j;
INSERT INTO events (position, id, type, conversation_id, channel_id, bot_id, create_time, payload)
	SELECT row_number() OVER (ORDER BY id), 'ev-' || id, 'message.received', conversation_id, channel_id, 'bot-ceiling',
		create_time, '{}'
	FROM messages;
-- The numbers of baton-unordered.pgbench's events.
CREATE SEQUENCE event_positions START 10001;
ANALYZE;
