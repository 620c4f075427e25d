// Package storetest is the conformance suite of store backends. A backend's test calls
//
//	storetest.Run(t, func(t *testing.T) store.Store { return openFreshStore(t) })
//
// and passes when it behaves as the store package documents. The suite only uses the store
// interfaces and the domain types, so every backend runs the very same tests.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// Run runs the suite. open must return a new, empty store each time it is called; it is called
// once per test, from parallel tests. The suite closes the store when the test ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	for _, g := range groups() {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					s := open(t)
					t.Cleanup(func() {
						if err := s.Close(); err != nil {
							t.Errorf("Close: %v", err)
						}
					})
					c.fn(&harness{t: t, s: s, ctx: t.Context()})
				})
			}
		})
	}
}

type group struct {
	name  string
	cases []testCase
}

type testCase struct {
	name string
	fn   func(h *harness)
}

func groups() []group {
	return []group{
		{"Channel", append(resourceCases(channelResource),
			testCase{"UniqueKeys", testChannelUniqueKeys},
			testCase{"List", testChannelList},
			testCase{"CountConversations", testCountConversations},
		)},
		{"Bot", append(resourceCases(botResource),
			testCase{"ChannelIDs", testBotChannelIDs},
			testCase{"List", testBotList},
		)},
		{"Agent", append(resourceCases(agentResource),
			testCase{"Active", testAgentActive},
			testCase{"List", testAgentList},
			testCase{"SeenBefore", testAgentsSeenBefore},
			testCase{"Touch", testAgentTouch},
		)},
		{"Queue", append(resourceCases(queueResource),
			testCase{"Waiting", testQueueWaiting},
			testCase{"InUse", testQueueInUse},
			testCase{"List", testQueueList},
		)},
		{"RoutingRule", append(resourceCases(ruleResource),
			testCase{"List", testRuleList},
		)},
		{"Contact", append(resourceCases(contactResource),
			testCase{"ByExternalID", testContactByExternalID},
			testCase{"UniqueKeys", testContactUniqueKeys},
			testCase{"List", testContactList},
		)},
		{"Conversation", append(resourceCases(conversationResource),
			testCase{"ByContact", testConversationByContact},
			testCase{"OnePerContact", testConversationOnePerContact},
			testCase{"TouchExternalOwnerTime", testConversationTouchExternalOwnerTime},
			testCase{"Filters", testConversationFilters},
			testCase{"List", testConversationList},
		)},
		{"Message", []testCase{
			{"RoundTrip", testMessageRoundTrip},
			{"UniqueKeys", testMessageUniqueKeys},
			{"List", testMessageList},
			{"Last", testLastMessages},
			{"RecentInbound", testRecentInbound},
		}},
		{"Send", []testCase{
			{"Fields", testSendFields},
			{"EventJSON", testSendEventJSON},
			{"Update", testUpdateMessage},
			{"UpdateDuplicate", testUpdateMessageDuplicate},
			{"ListOutboundUntil", testListOutboundUntil},
		}},
		{"SendClaim", []testCase{
			{"Due", testClaimSendsDue},
			{"InOrder", testClaimSendsInOrder},
			{"OldestFirst", testClaimSendsOldestFirst},
			{"Lease", testClaimSendsLease},
			{"Race", testClaimSendsRace},
			{"Notes", testClaimSendsSkipsNotes},
		}},
		{"Inbound", []testCase{
			{"UnknownChannel", testInboundUnknownChannel},
			{"Absent", testInboundAbsent},
			{"Full", testInboundFull},
			{"OtherChannel", testInboundOtherChannel},
			{"ActiveHandover", testInboundActiveHandover},
			{"Lock", testInboundLock},
		}},
		{"Handover", append(resourceCases(handoverResource),
			testCase{"ByRequestID", testHandoverByRequestID},
			testCase{"UniqueKeys", testHandoverUniqueKeys},
			testCase{"Filters", testHandoverFilters},
			testCase{"List", testHandoverList},
			testCase{"ByPriority", testHandoverByPriority},
		)},
		{"APIKey", append(resourceCases(apiKeyResource),
			testCase{"List", testAPIKeyList},
		)},
		{"Retention", []testCase{
			{"Messages", testRetentionMessages},
			{"Events", testRetentionEvents},
			{"Deliveries", testRetentionDeliveries},
			{"Conversations", testRetentionConversations},
			{"Lease", testRetentionLease},
		}},
		{"Erasure", []testCase{
			{"Record", testErasureRecord},
			{"Messages", testEraseMessages},
			{"ContactEvents", testContactEvents},
		}},
		{"Event", []testCase{
			{"Append", testEventAppend},
			{"RoundTrip", testEventRoundTrip},
			{"Filters", testEventFilters},
			{"LastSequence", testLastSequence},
			{"Numbering", testNumbering},
			{"OwnerChanges", testOwnerChanges},
			{"Get", testGetEvent},
		}},
		{"Webhook", append(resourceCases(webhookResource),
			testCase{"OnePerBot", testWebhookOnePerBot},
			testCase{"List", testWebhookList},
			testCase{"Delete", testDeleteWebhook},
		)},
		{"Delivery", []testCase{
			{"Subscribes", testSubscribes},
			{"Fields", testDeliveryFields},
			{"Update", testDeliveryUpdate},
			{"ConcurrentUpdates", testDeliveryConcurrentUpdates},
			{"List", testDeliveryList},
			{"Requeue", testRequeue},
			{"Attempts", testAttempts},
		}},
		{"Claim", []testCase{
			{"InOrder", testClaimInOrder},
			{"Race", testClaimRace},
			{"Lease", testClaimLease},
			{"WebhookState", testClaimWebhookState},
		}},
		{"Request", []testCase{
			{"RememberLookup", testRememberRequest},
		}},
		{"Due", []testCase{
			{"MutedConversations", testDueMutedConversations},
			{"MutedContacts", testDueMutedContacts},
			{"IdleConversations", testDueIdleConversations},
			{"Offers", testDueOffers},
			{"Unanswered", testDueUnanswered},
			{"SLA", testDueSLA},
		}},
		{"Gauges", []testCase{
			{"Read", testGauges},
		}},
		{"Page", []testCase{
			{"BadCursor", testBadCursor},
		}},
		{"Tx", []testCase{
			{"Rollback", testRollback},
			{"DuplicateKeepsTx", testDuplicateKeepsTx},
			{"ReadOnly", testReadOnly},
			{"ReadSnapshot", testReadSnapshot},
			{"ConcurrentUpdates", testConcurrentUpdates},
			{"ConcurrentEvents", testConcurrentEvents},
			{"GroupedWrites", testGroupedWrites},
			{"ManyWrites", testManyWrites},
		}},
	}
}

// harness is one test's store with helpers that fail the test on unexpected errors.
type harness struct {
	t   *testing.T
	s   store.Store
	ctx context.Context
	n   int // last id suffix handed out
}

// id returns a new id. Ids sort in the order they are handed out.
func (h *harness) id(prefix string) string {
	h.n++
	return fmt.Sprintf("%s-%04d", prefix, h.n)
}

func (h *harness) write(fn func(store.Tx) error) {
	h.t.Helper()
	if err := h.s.Write(h.ctx, fn); err != nil {
		h.t.Fatalf("Write: %v", err)
	}
}

func (h *harness) read(fn func(store.Tx) error) {
	h.t.Helper()
	if err := h.s.Read(h.ctx, fn); err != nil {
		h.t.Fatalf("Read: %v", err)
	}
}

// tryWrite runs fn in a Write and returns its error.
func (h *harness) tryWrite(fn func(store.Tx) error) error {
	return h.s.Write(h.ctx, fn)
}

// readValue runs one getter in a Read and returns what it returned.
func readValue[T any](h *harness, get func(store.Tx) (T, error)) (T, error) {
	var v T
	err := h.s.Read(h.ctx, func(tx store.Tx) error {
		var err error
		v, err = get(tx)
		return err
	})
	return v, err
}

// mustRead is readValue failing the test on error.
func mustRead[T any](h *harness, get func(store.Tx) (T, error)) T {
	h.t.Helper()
	v, err := readValue(h, get)
	if err != nil {
		h.t.Fatalf("Read: %v", err)
	}
	return v
}

// cmpOptions compare stored values: times by instant (time.Time.Equal, whatever the location)
// and nil like empty for slices and maps.
var cmpOptions = []cmp.Option{cmpopts.EquateEmpty()}

func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpOptions...); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

// wantNotFound checks err is a *domain.NotFoundError, naming id unless id is "" (lookups by
// a key other than the id may name what they like).
func wantNotFound(t *testing.T, what string, err error, id string) {
	t.Helper()
	var nf *domain.NotFoundError
	if !errors.As(err, &nf) {
		t.Errorf("%s: got error %v, want *domain.NotFoundError", what, err)
		return
	}
	if nf.Kind == "" || (id != "" && nf.ID != id) {
		t.Errorf("%s: got NotFoundError{Kind: %q, ID: %q}, want a kind and ID %q", what, nf.Kind, nf.ID, id)
	}
}

// lister is one List method bound to its filter.
type lister[T any] func(tx store.Tx, p store.Page) ([]T, string, error)

// walk lists every page of size rows and returns all rows in the order they came.
func walk[T any](h *harness, size int, list lister[T]) []T {
	h.t.Helper()
	var all []T
	p := store.Page{Size: size}
	for range 1000 {
		var page []T
		var next string
		h.read(func(tx store.Tx) error {
			var err error
			page, next, err = list(tx, p)
			return err
		})
		if size > 0 && len(page) > size {
			h.t.Fatalf("page of size %d has %d rows", size, len(page))
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		if len(page) == 0 {
			h.t.Fatalf("empty page with a next cursor %q", next)
		}
		p.Cursor = next
	}
	h.t.Fatalf("pagination does not end")
	return nil
}

// checkPages walks the list with pages of several sizes, including the default, and checks
// every walk returns want exactly: each row once, in order.
func checkPages[T any](h *harness, what string, want []T, list lister[T]) {
	h.t.Helper()
	for _, size := range []int{1, 3, len(want), len(want) + 1, 0} {
		diff(h.t, fmt.Sprintf("%s, pages of %d", what, size), want, walk(h, size, list))
	}
}

func ids[T any](rows []T, id func(T) string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = id(r)
	}
	return out
}

// at is the suite's clock: t0 plus d. Times have microsecond precision at most, which every
// backend must keep.
func at(d time.Duration) time.Time { return t0.Add(d) }
