-- +goose Up
-- Times are unix nanoseconds (0 is the zero time), durations are nanoseconds, and lists and
-- maps are JSON text. Every table is STRICT so a wrongly typed value fails loudly.

CREATE TABLE bots (
    id           TEXT PRIMARY KEY,
    display_name TEXT NOT NULL DEFAULT '',
    active       INTEGER NOT NULL DEFAULT 0,
    webhook_url  TEXT NOT NULL DEFAULT '',
    standby      INTEGER NOT NULL DEFAULT 0,
    create_time  INTEGER NOT NULL DEFAULT 0,
    update_time  INTEGER NOT NULL DEFAULT 0,
    revision     INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE channels (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    external_id      TEXT NOT NULL,
    display_name     TEXT NOT NULL DEFAULT '',
    bot_id           TEXT NOT NULL DEFAULT '',
    default_queue_id TEXT NOT NULL DEFAULT '',
    session_timeout  INTEGER NOT NULL DEFAULT 0,
    credentials      TEXT NOT NULL DEFAULT '{}',
    create_time      INTEGER NOT NULL DEFAULT 0,
    update_time      INTEGER NOT NULL DEFAULT 0,
    revision         INTEGER NOT NULL DEFAULT 0,
    UNIQUE (kind, external_id)
) STRICT;
CREATE INDEX channels_bot ON channels (bot_id, id);
CREATE INDEX channels_default_queue ON channels (default_queue_id);

CREATE TABLE agents (
    id             TEXT PRIMARY KEY,
    display_name   TEXT NOT NULL DEFAULT '',
    email          TEXT NOT NULL DEFAULT '',
    skills         TEXT NOT NULL DEFAULT '[]',
    role           TEXT NOT NULL DEFAULT '',
    team           TEXT NOT NULL DEFAULT '',
    capacity       INTEGER NOT NULL DEFAULT 0,
    queue_ids      TEXT NOT NULL DEFAULT '[]',
    presence       TEXT NOT NULL DEFAULT '',
    last_seen_time INTEGER NOT NULL DEFAULT 0,
    create_time    INTEGER NOT NULL DEFAULT 0,
    update_time    INTEGER NOT NULL DEFAULT 0,
    revision       INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX agents_last_seen ON agents (last_seen_time);

CREATE TABLE queues (
    id            TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL DEFAULT '',
    skills        TEXT NOT NULL DEFAULT '[]',
    offer_timeout INTEGER NOT NULL DEFAULT 0,
    create_time   INTEGER NOT NULL DEFAULT 0,
    update_time   INTEGER NOT NULL DEFAULT 0,
    revision      INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Contacts go with their channel; a channel with conversations cannot be deleted.
CREATE TABLE contacts (
    id              TEXT PRIMARY KEY,
    channel_id      TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    external_id     TEXT NOT NULL,
    display_name    TEXT NOT NULL DEFAULT '',
    locale          TEXT NOT NULL DEFAULT '',
    attributes      TEXT NOT NULL DEFAULT '{}',
    bot_muted_until INTEGER NOT NULL DEFAULT 0,
    create_time     INTEGER NOT NULL DEFAULT 0,
    update_time     INTEGER NOT NULL DEFAULT 0,
    revision        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (channel_id, external_id)
) STRICT;
CREATE INDEX contacts_bot_muted ON contacts (bot_muted_until, id) WHERE bot_muted_until != 0;

CREATE TABLE conversations (
    id                 TEXT PRIMARY KEY,
    channel_id         TEXT NOT NULL REFERENCES channels (id),
    contact_id         TEXT NOT NULL UNIQUE REFERENCES contacts (id),
    bot_id             TEXT NOT NULL DEFAULT '',
    owner_kind         TEXT NOT NULL,
    owner_id           TEXT NOT NULL DEFAULT '',
    epoch              INTEGER NOT NULL DEFAULT 0,
    state              TEXT NOT NULL,
    status             TEXT NOT NULL DEFAULT '',
    tags               TEXT NOT NULL DEFAULT '[]',
    language           TEXT NOT NULL DEFAULT '',
    active_handover_id TEXT NOT NULL DEFAULT '',
    bot_enabled        INTEGER NOT NULL DEFAULT 0,
    bot_muted_until    INTEGER NOT NULL DEFAULT 0,
    last_activity_time INTEGER NOT NULL DEFAULT 0,
    last_inbound_time  INTEGER NOT NULL DEFAULT 0,
    last_outbound_time INTEGER NOT NULL DEFAULT 0,
    create_time        INTEGER NOT NULL DEFAULT 0,
    update_time        INTEGER NOT NULL DEFAULT 0,
    revision           INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX conversations_activity ON conversations (last_activity_time, id);
CREATE INDEX conversations_owner ON conversations (owner_kind, owner_id, last_activity_time, id);
CREATE INDEX conversations_channel ON conversations (channel_id, last_activity_time, id);
CREATE INDEX conversations_state ON conversations (state, last_activity_time, id);
CREATE INDEX conversations_bot_muted ON conversations (bot_muted_until, id) WHERE bot_muted_until != 0;

CREATE TABLE messages (
    id                 TEXT PRIMARY KEY,
    conversation_id    TEXT NOT NULL REFERENCES conversations (id),
    channel_id         TEXT NOT NULL,
    direction          TEXT NOT NULL,
    sender_kind        TEXT NOT NULL DEFAULT '',
    sender_id          TEXT NOT NULL DEFAULT '',
    content            TEXT NOT NULL DEFAULT '',
    channel_message_id TEXT NOT NULL DEFAULT '',
    request_id         TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL DEFAULT '',
    epoch              INTEGER NOT NULL DEFAULT 0,
    create_time        INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX messages_conversation ON messages (conversation_id, create_time, id);
-- Empty ids are not keys: a message without one never clashes.
CREATE UNIQUE INDEX messages_channel_message ON messages (channel_id, channel_message_id)
    WHERE channel_message_id != '';
CREATE UNIQUE INDEX messages_request ON messages (conversation_id, request_id)
    WHERE request_id != '';

CREATE TABLE handovers (
    id                 TEXT PRIMARY KEY,
    conversation_id    TEXT NOT NULL REFERENCES conversations (id),
    from_kind          TEXT NOT NULL DEFAULT '',
    from_id            TEXT NOT NULL DEFAULT '',
    target             TEXT NOT NULL DEFAULT '{}',
    queue_id           TEXT NOT NULL DEFAULT '',
    reason             TEXT NOT NULL DEFAULT '',
    metadata           TEXT NOT NULL DEFAULT '{}',
    summary            TEXT NOT NULL DEFAULT '',
    intake             TEXT NOT NULL DEFAULT '[]',
    state              TEXT NOT NULL,
    failure_reason     TEXT NOT NULL DEFAULT '',
    offered_agent_id   TEXT NOT NULL DEFAULT '',
    offer_expire_time  INTEGER NOT NULL DEFAULT 0,
    declined_agent_ids TEXT NOT NULL DEFAULT '[]',
    agent_id           TEXT NOT NULL DEFAULT '',
    outcome            TEXT NOT NULL DEFAULT '',
    handback_summary   TEXT NOT NULL DEFAULT '',
    end_reason         TEXT NOT NULL DEFAULT '',
    requested_by_kind  TEXT NOT NULL DEFAULT '',
    requested_by_id    TEXT NOT NULL DEFAULT '',
    request_id         TEXT NOT NULL DEFAULT '',
    epoch              INTEGER NOT NULL DEFAULT 0,
    create_time        INTEGER NOT NULL DEFAULT 0,
    accept_time        INTEGER NOT NULL DEFAULT 0,
    end_time           INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX handovers_conversation ON handovers (conversation_id, create_time, id);
CREATE INDEX handovers_state ON handovers (state, create_time, id);
CREATE INDEX handovers_offer_expire ON handovers (state, offer_expire_time, id);
CREATE INDEX handovers_queue ON handovers (queue_id, state);
CREATE INDEX handovers_agent ON handovers (agent_id, state);
CREATE INDEX handovers_offered_agent ON handovers (offered_agent_id);
CREATE UNIQUE INDEX handovers_request ON handovers (conversation_id, request_id)
    WHERE request_id != '';

-- AUTOINCREMENT never reuses a sequence, even after the newest event is gone.
CREATE TABLE events (
    sequence        INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    type            TEXT NOT NULL,
    conversation_id TEXT NOT NULL DEFAULT '',
    channel_id      TEXT NOT NULL DEFAULT '',
    bot_id          TEXT NOT NULL DEFAULT '',
    create_time     INTEGER NOT NULL DEFAULT 0,
    payload         TEXT NOT NULL
) STRICT;
CREATE INDEX events_conversation ON events (conversation_id, sequence);
CREATE INDEX events_bot ON events (bot_id, sequence);
CREATE INDEX events_channel ON events (channel_id, sequence);

CREATE TABLE requests (
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    create_time INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    display_name TEXT NOT NULL DEFAULT '',
    role         TEXT NOT NULL,
    subject_id   TEXT NOT NULL DEFAULT '',
    secret_hash  BLOB,
    create_time  INTEGER NOT NULL DEFAULT 0
) STRICT;

-- +goose Down
DROP TABLE api_keys;
DROP TABLE requests;
DROP TABLE events;
DROP TABLE handovers;
DROP TABLE messages;
DROP TABLE conversations;
DROP TABLE contacts;
DROP TABLE queues;
DROP TABLE agents;
DROP TABLE channels;
DROP TABLE bots;
