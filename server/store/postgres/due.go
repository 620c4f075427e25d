package postgres

import (
	"context"
	"time"

	"github.com/batonhq/baton/server/domain"
)

// The timers' queries. Each lists the most overdue rows first so that a limit leaves the
// freshest for the next tick. A time equal to notSet is the zero time.Time: not due.

const notSet = "'0001-01-01 00:00:00+00'"

func (t *tx) DueMutedConversations(ctx context.Context, now time.Time, limit int) ([]domain.Conversation, error) {
	return getAll(ctx, t, scanConversation, selectConversation+`
		WHERE c.bot_muted_until != `+notSet+` AND c.bot_muted_until <= $1
		ORDER BY c.bot_muted_until, c.id LIMIT $2`, now, limitOr(limit))
}

func (t *tx) DueMutedContacts(ctx context.Context, now time.Time, limit int) ([]domain.Contact, error) {
	return getAll(ctx, t, scanContact, selectContact+`
		WHERE ct.bot_muted_until != `+notSet+` AND ct.bot_muted_until <= $1
		ORDER BY ct.bot_muted_until, ct.id LIMIT $2`, now, limitOr(limit))
}

// DueIdleConversations applies domain.DefaultSessionTimeout to channels that set none. Only
// conversations idle for the shortest timeout of any channel can be due: bounded by that, the
// scan of conversations_state skips the (many) recently active ones, which it would otherwise
// read through, every tick, to find none due.
func (t *tx) DueIdleConversations(ctx context.Context, now time.Time, limit int) ([]domain.Conversation, error) {
	return getAll(ctx, t, scanConversation, selectConversation+`
		JOIN channels ch ON ch.id = c.channel_id
		WHERE c.state = $1 AND c.last_activity_time +
			CASE WHEN ch.session_timeout > '0' THEN ch.session_timeout ELSE $2 END <= $3
			AND c.last_activity_time <= $3::timestamptz - (SELECT min(
				CASE WHEN s.session_timeout > '0' THEN s.session_timeout ELSE $2 END) FROM channels s)
		ORDER BY c.last_activity_time, c.id LIMIT $4`,
		domain.ConversationOpen, domain.DefaultSessionTimeout, now, limitOr(limit))
}

func (t *tx) DueOffers(ctx context.Context, now time.Time, limit int) ([]domain.Handover, error) {
	return getAll(ctx, t, scanHandover, selectHandover+`
		WHERE h.state = $1 AND h.offer_expire_time != `+notSet+` AND h.offer_expire_time <= $2
		ORDER BY h.offer_expire_time, h.id LIMIT $3`, domain.HandoverOffered, now, limitOr(limit))
}

func (t *tx) DueUnanswered(ctx context.Context, now time.Time, limit int) ([]domain.Conversation, error) {
	return getAll(ctx, t, scanConversation, selectConversation+`
		WHERE c.state = $1 AND c.unanswered_deadline != `+notSet+` AND c.unanswered_deadline <= $2
		ORDER BY c.unanswered_deadline, c.id LIMIT $3`, domain.ConversationOpen, now, limitOr(limit))
}

func (t *tx) DueSLA(ctx context.Context, now time.Time, limit int) ([]domain.Handover, error) {
	return getAll(ctx, t, scanHandover, selectHandover+`
		WHERE (h.state IN ($1, $2) AND h.sla_wait_deadline != `+notSet+` AND h.sla_wait_deadline <= $4)
			OR (h.state IN ($1, $2, $3) AND h.sla_reply_deadline != `+notSet+` AND h.sla_reply_deadline <= $4)
		ORDER BY h.create_time, h.id LIMIT $5`,
		domain.HandoverRequested, domain.HandoverOffered, domain.HandoverAccepted, now, limitOr(limit))
}
