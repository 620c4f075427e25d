package postgres

import (
	"context"
	"fmt"

	"github.com/batonhq/baton/server/store"
)

// Lock order. A Write waits for row locks only in this order, so no two Writes ever wait for
// each other in a cycle (a deadlock, which PostgreSQL breaks only after deadlock_timeout, a
// second, by failing one of them):
//
//  1. a delivery (GetDelivery: a redelivery); several in one statement (GetDeliveries, in id
//     order: the recorder of a batch of attempts; deleting or requeueing a webhook's);
//  2. a webhook (Lock, or its update);
//  3. a bot, a channel, an agent, a queue: the configuration row a Write updates (Lock, before
//     reading it);
//  4. conversations (GetConversation, GetConversationByContact, LoadInbound); a Write that
//     locks several locks them in id order (a group of inbound writes in one statement);
//  5. a contact, under its conversation's lock (Lock, or its update);
//  6. the conversation's own rows: its handovers and messages (their updates);
//  7. the numbering lock, with the COMMIT (numbering.go), after which a Write waits for nothing.
//
// Claims wait for no lock: ClaimSends and ClaimDeliveries lock the rows they lease with SKIP
// LOCKED, passing over rows others hold, and the reads their callers make in the same Write
// lock nothing. Inserts take only FOR KEY SHARE locks on the rows they reference, which the
// FOR NO KEY UPDATE locks above never wait for. What still deadlocks (a bug in this order) is
// run again (retry.go), a second later, and logged.

// lockTables are the tables of the rows Lock locks.
var lockTables = map[store.Kind]string{
	store.KindChannel: "channels",
	store.KindBot:     "bots",
	store.KindAgent:   "agents",
	store.KindQueue:   "queues",
	store.KindContact: "contacts",
	store.KindWebhook: "webhooks",
	store.KindRule:    "routing_rules",
}

// Lock defers the locking statement to go with the next statement, which is usually the read of
// the row: it is sent in the same round trip, and, as a statement begins only after the one
// before has ended, sees what the lock's previous holder committed.
func (t *tx) Lock(_ context.Context, kind store.Kind, id string) error {
	table, ok := lockTables[kind]
	if !ok {
		return fmt.Errorf("postgres: no rows of kind %q to lock", kind)
	}
	if !t.write {
		return nil
	}
	t.tx.Defer(func(err error) error { return fmt.Errorf("postgres: lock %s: %w", kind, err) },
		"SELECT FROM "+table+" WHERE id = $1"+lockRow, id)
	return nil
}
