package sqlite

import (
	"context"
	"time"

	"github.com/batonhq/baton/server/domain"
)

// The timers' queries. Each lists the most overdue rows first so that a limit leaves the
// freshest for the next tick.

func (t *tx) DueMutedConversations(ctx context.Context, now time.Time, limit int) ([]domain.Conversation, error) {
	return getAll(ctx, t, scanConversation, selectConversation+`
		WHERE c.bot_muted_until != 0 AND c.bot_muted_until <= ?
		ORDER BY c.bot_muted_until, c.id LIMIT ? + 0`, nanos(now), limitOr(limit))
}

func (t *tx) DueMutedContacts(ctx context.Context, now time.Time, limit int) ([]domain.Contact, error) {
	return getAll(ctx, t, scanContact, selectContact+`
		WHERE ct.bot_muted_until != 0 AND ct.bot_muted_until <= ?
		ORDER BY ct.bot_muted_until, ct.id LIMIT ? + 0`, nanos(now), limitOr(limit))
}

// DueIdleConversations applies domain.DefaultSessionTimeout to channels that set none. Only
// conversations idle for the shortest timeout of any channel can be due: bounded by that, the
// scan of conversations_state skips the (many) recently active ones.
func (t *tx) DueIdleConversations(ctx context.Context, now time.Time, limit int) ([]domain.Conversation, error) {
	return getAll(ctx, t, scanConversation, selectConversation+`
		JOIN channels ch ON ch.id = c.channel_id
		WHERE c.state = ?1 AND c.last_activity_time +
			CASE WHEN ch.session_timeout > 0 THEN ch.session_timeout ELSE ?2 END <= ?3
			AND c.last_activity_time <= ?3 - (SELECT min(
				CASE WHEN s.session_timeout > 0 THEN s.session_timeout ELSE ?2 END) FROM channels s)
		ORDER BY c.last_activity_time, c.id LIMIT ?4 + 0`,
		domain.ConversationOpen, int64(domain.DefaultSessionTimeout), nanos(now), limitOr(limit))
}

func (t *tx) DueOffers(ctx context.Context, now time.Time, limit int) ([]domain.Handover, error) {
	return getAll(ctx, t, scanHandover, selectHandover+`
		WHERE h.state = ? AND h.offer_expire_time != 0 AND h.offer_expire_time <= ?
		ORDER BY h.offer_expire_time, h.id LIMIT ? + 0`, domain.HandoverOffered, nanos(now), limitOr(limit))
}

func (t *tx) DueUnanswered(ctx context.Context, now time.Time, limit int) ([]domain.Conversation, error) {
	return getAll(ctx, t, scanConversation, selectConversation+`
		WHERE c.state = ? AND c.unanswered_deadline != 0 AND c.unanswered_deadline <= ?
		ORDER BY c.unanswered_deadline, c.id LIMIT ? + 0`, domain.ConversationOpen, nanos(now), limitOr(limit))
}

func (t *tx) DueSLA(ctx context.Context, now time.Time, limit int) ([]domain.Handover, error) {
	return getAll(ctx, t, scanHandover, selectHandover+`
		WHERE (h.state IN (?1, ?2) AND h.sla_wait_deadline != 0 AND h.sla_wait_deadline <= ?4)
			OR (h.state IN (?1, ?2, ?3) AND h.sla_reply_deadline != 0 AND h.sla_reply_deadline <= ?4)
		ORDER BY h.create_time, h.id LIMIT ?5 + 0`,
		domain.HandoverRequested, domain.HandoverOffered, domain.HandoverAccepted, nanos(now), limitOr(limit))
}
