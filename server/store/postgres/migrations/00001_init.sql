-- +goose Up
-- Ids, and every column holding an id, are text in the "C" collation: they sort byte by byte
-- (as lists and their cursors expect, whatever the database's locale) and compare fast.
-- Times are timestamptz (microseconds). The zero time.Time is stored as it is, 0001-01-01
-- 00:00:00 UTC, so that "not set" sorts before every real time and round-trips exactly.
-- Durations are intervals. Lists and maps are jsonb; message contents and event payloads are
-- json, which keeps their bytes exactly as they were given.

CREATE TABLE bots (
    id           text COLLATE "C" PRIMARY KEY,
    display_name text NOT NULL,
    active       boolean NOT NULL,
    webhook_url  text NOT NULL,
    standby      boolean NOT NULL,
    create_time  timestamptz NOT NULL,
    update_time  timestamptz NOT NULL,
    revision     bigint NOT NULL
);

CREATE TABLE channels (
    id               text COLLATE "C" PRIMARY KEY,
    kind             text NOT NULL,
    external_id      text COLLATE "C" NOT NULL,
    display_name     text NOT NULL,
    bot_id           text COLLATE "C" NOT NULL,
    default_queue_id text COLLATE "C" NOT NULL,
    session_timeout  interval NOT NULL,
    credentials      jsonb NOT NULL,
    create_time      timestamptz NOT NULL,
    update_time      timestamptz NOT NULL,
    revision         bigint NOT NULL,
    UNIQUE (kind, external_id)
);
CREATE INDEX channels_bot ON channels (bot_id, id);
CREATE INDEX channels_default_queue ON channels (default_queue_id);

CREATE TABLE agents (
    id             text COLLATE "C" PRIMARY KEY,
    display_name   text NOT NULL,
    email          text NOT NULL,
    skills         jsonb NOT NULL,
    role           text NOT NULL,
    team           text NOT NULL,
    capacity       integer NOT NULL,
    queue_ids      jsonb NOT NULL,
    presence       text NOT NULL,
    last_seen_time timestamptz NOT NULL,
    create_time    timestamptz NOT NULL,
    update_time    timestamptz NOT NULL,
    revision       bigint NOT NULL
);
CREATE INDEX agents_last_seen ON agents (last_seen_time);

CREATE TABLE queues (
    id            text COLLATE "C" PRIMARY KEY,
    display_name  text NOT NULL,
    skills        jsonb NOT NULL,
    offer_timeout interval NOT NULL,
    create_time   timestamptz NOT NULL,
    update_time   timestamptz NOT NULL,
    revision      bigint NOT NULL
);

-- Contacts go with their channel; a channel with conversations cannot be deleted.
CREATE TABLE contacts (
    id              text COLLATE "C" PRIMARY KEY,
    channel_id      text COLLATE "C" NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    external_id     text COLLATE "C" NOT NULL,
    display_name    text NOT NULL,
    locale          text NOT NULL,
    attributes      jsonb NOT NULL,
    bot_muted_until timestamptz NOT NULL,
    create_time     timestamptz NOT NULL,
    update_time     timestamptz NOT NULL,
    revision        bigint NOT NULL,
    UNIQUE (channel_id, external_id)
);
CREATE INDEX contacts_bot_muted ON contacts (bot_muted_until, id)
    WHERE bot_muted_until != '0001-01-01 00:00:00+00';

CREATE TABLE conversations (
    id                 text COLLATE "C" PRIMARY KEY,
    channel_id         text COLLATE "C" NOT NULL REFERENCES channels (id),
    contact_id         text COLLATE "C" NOT NULL UNIQUE REFERENCES contacts (id),
    bot_id             text COLLATE "C" NOT NULL,
    owner_kind         text NOT NULL,
    owner_id           text COLLATE "C" NOT NULL,
    epoch              bigint NOT NULL,
    state              text NOT NULL,
    status             text NOT NULL,
    tags               jsonb NOT NULL,
    language           text NOT NULL,
    active_handover_id text COLLATE "C" NOT NULL,
    bot_enabled        boolean NOT NULL,
    bot_muted_until    timestamptz NOT NULL,
    last_activity_time timestamptz NOT NULL,
    last_inbound_time  timestamptz NOT NULL,
    last_outbound_time timestamptz NOT NULL,
    create_time        timestamptz NOT NULL,
    update_time        timestamptz NOT NULL,
    revision           bigint NOT NULL
);
CREATE INDEX conversations_activity ON conversations (last_activity_time, id);
CREATE INDEX conversations_owner ON conversations (owner_kind, owner_id, last_activity_time, id);
CREATE INDEX conversations_channel ON conversations (channel_id, last_activity_time, id);
CREATE INDEX conversations_state ON conversations (state, last_activity_time, id);
CREATE INDEX conversations_bot_muted ON conversations (bot_muted_until, id)
    WHERE bot_muted_until != '0001-01-01 00:00:00+00';

CREATE TABLE messages (
    id                 text COLLATE "C" PRIMARY KEY,
    conversation_id    text COLLATE "C" NOT NULL REFERENCES conversations (id),
    channel_id         text COLLATE "C" NOT NULL,
    direction          text NOT NULL,
    sender_kind        text NOT NULL,
    sender_id          text COLLATE "C" NOT NULL,
    content            json, -- NULL when there is none
    channel_message_id text COLLATE "C" NOT NULL,
    request_id         text COLLATE "C" NOT NULL,
    status             text NOT NULL,
    epoch              bigint NOT NULL,
    create_time        timestamptz NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, create_time, id);
-- Empty ids are not keys: a message without one never clashes.
CREATE UNIQUE INDEX messages_channel_message ON messages (channel_id, channel_message_id)
    WHERE channel_message_id != '';
CREATE UNIQUE INDEX messages_request ON messages (conversation_id, request_id)
    WHERE request_id != '';

CREATE TABLE handovers (
    id                 text COLLATE "C" PRIMARY KEY,
    conversation_id    text COLLATE "C" NOT NULL REFERENCES conversations (id),
    from_kind          text NOT NULL,
    from_id            text COLLATE "C" NOT NULL,
    target             jsonb NOT NULL,
    queue_id           text COLLATE "C" NOT NULL,
    reason             text NOT NULL,
    metadata           jsonb NOT NULL,
    summary            text NOT NULL,
    intake             jsonb NOT NULL,
    state              text NOT NULL,
    failure_reason     text NOT NULL,
    offered_agent_id   text COLLATE "C" NOT NULL,
    offer_expire_time  timestamptz NOT NULL,
    declined_agent_ids jsonb NOT NULL,
    agent_id           text COLLATE "C" NOT NULL,
    outcome            text NOT NULL,
    handback_summary   text NOT NULL,
    end_reason         text NOT NULL,
    requested_by_kind  text NOT NULL,
    requested_by_id    text COLLATE "C" NOT NULL,
    request_id         text COLLATE "C" NOT NULL,
    epoch              bigint NOT NULL,
    create_time        timestamptz NOT NULL,
    accept_time        timestamptz NOT NULL,
    end_time           timestamptz NOT NULL
);
CREATE INDEX handovers_conversation ON handovers (conversation_id, create_time, id);
CREATE INDEX handovers_state ON handovers (state, create_time, id);
CREATE INDEX handovers_offer_expire ON handovers (state, offer_expire_time, id);
CREATE INDEX handovers_queue ON handovers (queue_id, state);
CREATE INDEX handovers_agent ON handovers (agent_id, state);
CREATE INDEX handovers_offered_agent ON handovers (offered_agent_id);
CREATE UNIQUE INDEX handovers_request ON handovers (conversation_id, request_id)
    WHERE request_id != '';

-- Writers commit concurrently, so the order events are inserted in (seq) is not the order
-- they become visible in. Readers follow position instead: NULL when the event is stored,
-- set after commit by Store.Publish, one publisher at a time, above every position before.
-- (Publish finds the unpublished events through the position index, which holds NULLs too.)
CREATE TABLE events (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    position        bigint UNIQUE,
    id              text COLLATE "C" NOT NULL UNIQUE,
    type            text NOT NULL,
    conversation_id text COLLATE "C" NOT NULL,
    channel_id      text COLLATE "C" NOT NULL,
    bot_id          text COLLATE "C" NOT NULL,
    create_time     timestamptz NOT NULL,
    payload         json NOT NULL
);
CREATE INDEX events_conversation ON events (conversation_id, position);
CREATE INDEX events_bot ON events (bot_id, position);
CREATE INDEX events_channel ON events (channel_id, position);
CREATE INDEX events_owner_changes ON events (conversation_id, seq)
    WHERE type = 'conversation.owner_changed';

CREATE TABLE requests (
    scope       text COLLATE "C" NOT NULL,
    key         text COLLATE "C" NOT NULL,
    resource_id text COLLATE "C" NOT NULL,
    create_time timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE api_keys (
    id           text COLLATE "C" PRIMARY KEY,
    display_name text NOT NULL,
    role         text NOT NULL,
    subject_id   text COLLATE "C" NOT NULL,
    secret_hash  bytea,
    create_time  timestamptz NOT NULL
);

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
