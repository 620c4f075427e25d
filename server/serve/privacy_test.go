package serve_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/encoding/protojson"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/postgres/pgtest"
	"github.com/batonhq/baton/server/store/sqlite"
)

// database is a store the test serves, and a way to search every row of it.
type database struct {
	store store.Store
	// find returns, for each text, the places (table and row) that hold it.
	find func(t *testing.T, texts []string) map[string][]string
}

func sqliteDatabase(t *testing.T) database {
	path := filepath.Join(t.TempDir(), "baton.db")
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	return database{store: st, find: func(t *testing.T, texts []string) map[string][]string {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		return findInSQLite(t, db, texts)
	}}
}

// findInSQLite reads every column of every row of every table.
func findInSQLite(t *testing.T, db *sql.DB, texts []string) map[string][]string {
	t.Helper()
	var tables []string
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 10 {
		t.Fatalf("only %d tables: %v", len(tables), tables)
	}
	found := map[string][]string{}
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			values := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range values {
				ptrs[i] = &values[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var row bytes.Buffer
			for _, v := range values {
				fmt.Fprintf(&row, "%s\x00", v) // strings and blobs as their bytes
			}
			for _, text := range texts {
				if bytes.Contains(row.Bytes(), []byte(text)) {
					found[text] = append(found[text], table+": "+row.String())
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return found
}

func postgresDatabase(t *testing.T) database {
	url := pgtest.URL(t)
	st, err := postgres.Open(t.Context(), url, postgres.WithKeys(pgtest.Keys))
	if err != nil {
		t.Fatal(err)
	}
	return database{store: st, find: func(t *testing.T, texts []string) map[string][]string {
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		return findInPostgres(t, conn, texts)
	}}
}

// findInPostgres reads every row of every table of the test's schema as text (which holds every
// text and json column), and searches every bytea column as bytes.
func findInPostgres(t *testing.T, conn *pgx.Conn, texts []string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	rows, err := conn.Query(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	columns := map[string][]string{} // table: its bytea columns
	for rows.Next() {
		var table, column, typ string
		if err := rows.Scan(&table, &column, &typ); err != nil {
			t.Fatal(err)
		}
		if _, ok := columns[table]; !ok {
			columns[table] = nil
		}
		if typ == "bytea" {
			columns[table] = append(columns[table], column)
		}
	}
	rows.Close()
	if len(columns) < 10 {
		t.Fatalf("only %d tables in the schema", len(columns))
	}
	found := map[string][]string{}
	for table, binary := range columns {
		for _, text := range texts {
			cond := []string{"strpos(r::text, $1) > 0"}
			for _, c := range binary {
				cond = append(cond, fmt.Sprintf(`position(convert_to($1, 'UTF8') in r.%q) > 0`, c))
			}
			var hits []string
			rows, err := conn.Query(ctx, fmt.Sprintf(`SELECT r::text FROM %q r WHERE %s`, table, strings.Join(cond, " OR ")), text)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var row string
				rows.Scan(&row)
				hits = append(hits, table+": "+row)
			}
			rows.Close()
			found[text] = append(found[text], hits...)
		}
	}
	return found
}

// TestEraseContactLeavesNoTrace writes distinctive text about one customer through every path
// that stores it (a Telegram webhook, the ingest API with profile attributes, a bot's reply, a
// handoff's reason, context, summary and intake, an agent's reply, note and handback summary,
// deliveries to the bot's webhook and a firehose), erases the contact, and then finds the text
// in no row of any table. Before the erasure the same search finds every text, so a search that
// finds nothing proves something.
func TestEraseContactLeavesNoTrace(t *testing.T) {
	for name, open := range map[string]func(*testing.T) database{"SQLite": sqliteDatabase, "PostgreSQL": postgresDatabase} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := open(t)
			eraseContactLeavesNoTrace(t, db)
		})
	}
}

func eraseContactLeavesNoTrace(t *testing.T, db database) {
	ctx := context.Background()
	api := newSendAPI(t, func(r apiRequest) string {
		return `{"ok":true,"result":{"message_id":78,"chat":{"id":424242,"type":"private"},"date":1795251601,"text":"ok"}}`
	})
	h := startOn(t, db.store, &clock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}, loopback, withAPIs("", api.srv.URL))
	w := h.channelWorld(batonv1.ChannelKind_CHANNEL_KIND_TELEGRAM, "support_bot", &batonv1.ChannelCredentials{
		AccessToken: "123456:ABC-DEF", WebhookSecret: "tg-secret-token",
	})
	bot := h.key(batonv1.Role_ROLE_BOT, w.bot.GetId())
	botHook := newEndpoint(t)
	h.hook(bot.Bots, &batonv1.CreateWebhookRequest{BotId: w.bot.GetId(), Url: botHook.srv.URL})
	firehose := newEndpoint(t)
	h.hook(h.admin.Bots, &batonv1.CreateWebhookRequest{Url: firehose.srv.URL})
	agentRec := need(h.admin.Routing.CreateAgent(ctx, &batonv1.CreateAgentRequest{
		DisplayName: "Agent", QueueIds: []string{domain.DefaultQueueID}, Capacity: 2,
	}))(t).GetAgent()
	agent := h.key(batonv1.Role_ROLE_AGENT, agentRec.GetId())
	need(agent.Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_ONLINE}))(t)

	// Each path gets a text of its own, found nowhere else.
	secret := func(path string) string { return "Qz" + path + "Xq" }
	texts := map[string]string{}
	for _, path := range []string{"inbound", "firstname", "lastname", "apiinbound", "attribute", "botreply",
		"reason", "context", "summary", "intakeq", "intakea", "agentreply", "note", "handback"} {
		texts[path] = secret(path)
	}

	update := fmt.Sprintf(`{"update_id":10001,"message":{"message_id":1365,"date":1795251600,"text":"I am %s",
		"from":{"id":424242,"is_bot":false,"first_name":%q,"last_name":%q,"language_code":"en"},
		"chat":{"id":424242,"first_name":%[2]q,"last_name":%[3]q,"type":"private"}}}`,
		texts["inbound"], texts["firstname"], texts["lastname"])
	if status, out := h.post("/webhooks/telegram/"+w.channel.GetId(), http.Header{"X-Telegram-Bot-Api-Secret-Token": {"tg-secret-token"}}, update); status != http.StatusOK {
		t.Fatalf("telegram webhook: %d %s", status, out)
	}
	conv := w.conversation()
	contact := need(h.admin.Conversations.GetContact(ctx, &batonv1.GetContactRequest{ContactId: conv.GetContactId()}))(t).GetContact()
	need(h.admin.Conversations.IngestMessage(ctx, &batonv1.IngestMessageRequest{
		ChannelId: w.channel.GetId(),
		Contact: &batonv1.ContactProfile{ExternalId: contact.GetExternalId(), DisplayName: texts["firstname"] + " " + texts["lastname"],
			Attributes: map[string]string{"loyalty": texts["attribute"]}},
		ChannelMessageId: "1366", Content: text("and " + texts["apiinbound"]),
	}))(t)
	need(bot.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: conv.GetId(), Content: text("Hi " + texts["botreply"])}))(t)
	api.next(t)
	handoff := need(bot.Handovers.Handoff(ctx, &batonv1.HandoffRequest{
		ConversationId: conv.GetId(), Reason: texts["reason"], Metadata: map[string]string{"crm": texts["context"]},
		Summary: texts["summary"], Intake: []*batonv1.IntakeAnswer{{Question: texts["intakeq"], Answer: texts["intakea"]}},
	}))(t).GetHandover()
	need(agent.Handovers.AcceptHandover(ctx, &batonv1.AcceptHandoverRequest{HandoverId: handoff.GetId()}))(t)
	need(agent.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: conv.GetId(), Content: text("Agent here, " + texts["agentreply"])}))(t)
	api.next(t)
	need(agent.Conversations.CreateNote(ctx, &batonv1.CreateNoteRequest{ConversationId: conv.GetId(), Text: texts["note"]}))(t)
	need(agent.Handovers.Handback(ctx, &batonv1.HandbackRequest{
		ConversationId: conv.GetId(), Outcome: batonv1.HandbackOutcome_HANDBACK_OUTCOME_RESOLVED, Summary: texts["handback"],
	}))(t)
	// The bot's webhook and the firehose were sent the customer's words.
	for _, ep := range []*endpoint{botHook, firehose} {
		ep.await(t, func(d delivery) bool { return bytes.Contains(d.body, []byte(texts["inbound"])) })
		ep.await(t, func(d delivery) bool { return bytes.Contains(d.body, []byte(texts["handback"])) })
	}

	all := make([]string, 0, len(texts))
	for _, s := range texts {
		all = append(all, s)
	}
	before := db.find(t, all)
	for path, s := range texts {
		if len(before[s]) == 0 {
			t.Errorf("before the erasure, the %s text %q is in no row: the search cannot see it", path, s)
		}
	}
	messagesBefore := listMessages(t, h, conv.GetId())
	eventsBefore := listEvents(t, h, conv.GetId())

	export := exportContact(t, h, contact.GetId())
	for path, s := range texts {
		if path != "note" && !strings.Contains(export, s) { // notes are in the export too; checked below
			t.Errorf("the export lacks the %s text", path)
		}
	}
	if !strings.Contains(export, texts["note"]) {
		t.Errorf("the export lacks the note")
	}

	erased := need(h.admin.Conversations.EraseContact(ctx, &batonv1.EraseContactRequest{ContactId: contact.GetId()}))(t).GetErasure()
	if erased.GetCompleteTime() == nil || erased.GetConversationId() != conv.GetId() {
		t.Fatalf("erasure = %v, want complete, of the conversation", erased)
	}

	for text, places := range db.find(t, all) {
		for _, p := range places {
			t.Errorf("after the erasure, %q is still in %s", text, p)
		}
	}

	// Tombstones keep the transcript's shape and the log's sequence.
	messagesAfter := listMessages(t, h, conv.GetId())
	if len(messagesAfter) != len(messagesBefore) {
		t.Errorf("%d messages after, %d before", len(messagesAfter), len(messagesBefore))
	}
	for i, m := range messagesAfter {
		if !m.GetErased() || m.GetContent() != nil || m.GetId() != messagesBefore[i].GetId() || m.GetSender().GetKind() != messagesBefore[i].GetSender().GetKind() {
			t.Errorf("message %d after the erasure: %v", i, m)
		}
	}
	eventsAfter := listEvents(t, h, conv.GetId())
	var erasedEvent *batonv1.Event
	for i, e := range eventsAfter {
		if i < len(eventsBefore) && (e.GetSequence() != eventsBefore[i].GetSequence() || e.GetType() != eventsBefore[i].GetType()) {
			t.Errorf("event %d is %d %v after the erasure, was %d %v", i, e.GetSequence(), e.GetType(), eventsBefore[i].GetSequence(), eventsBefore[i].GetType())
		}
		if e.GetType() == batonv1.EventType_EVENT_TYPE_CONTACT_ERASED {
			erasedEvent = e
		}
	}
	if erasedEvent == nil || erasedEvent.GetContactId() != contact.GetId() || erasedEvent.GetActor().GetKind() != batonv1.ActorKind_ACTOR_KIND_ADMIN {
		t.Fatalf("no contact.erased event by the admin in %v", eventsAfter)
	}
	// A stream resuming from before the erasure reads the tombstones too, though the server had
	// the events in memory.
	var zero uint64
	replay := subscribe(t, h.admin, &batonv1.SubscribeRequest{AfterSequence: &zero})
	for {
		e := replay.next(t, 1)[0]
		b, _ := protojson.Marshal(e)
		for path, s := range texts {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("a stream from the start is sent the %s text in %v", path, e.GetEvent().GetType())
			}
		}
		if e.GetEvent().GetType() == batonv1.EventType_EVENT_TYPE_CONTACT_ERASED {
			break
		}
	}
	// The bot is told, with ids only.
	d := botHook.await(t, ofType(batonv1.EventType_EVENT_TYPE_CONTACT_ERASED))
	if got := d.ev.GetEvent(); got.GetContactId() != contact.GetId() || got.GetConversationId() != conv.GetId() {
		t.Errorf("contact.erased delivery names %q and %q", got.GetContactId(), got.GetConversationId())
	}

	// A repeat returns the erasure as it was.
	again := need(h.admin.Conversations.EraseContact(ctx, &batonv1.EraseContactRequest{ContactId: contact.GetId()}))(t).GetErasure()
	if !again.GetCompleteTime().AsTime().Equal(erased.GetCompleteTime().AsTime()) {
		t.Errorf("a repeat completed again: %v, then %v", erased, again)
	}
	// The erased conversation takes nothing new; the customer writing again is a new contact.
	_, err := bot.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: conv.GetId(), Content: text("still there?")})
	if code(err) != connect.CodeFailedPrecondition {
		t.Errorf("a send to the erased contact's conversation: %v, want FAILED_PRECONDITION", err)
	}
	update = `{"update_id":10002,"message":{"message_id":1400,"date":1795251700,"text":"hello again",
		"from":{"id":424242,"is_bot":false,"first_name":"A"},"chat":{"id":424242,"first_name":"A","type":"private"}}}`
	if status, out := h.post("/webhooks/telegram/"+w.channel.GetId(), http.Header{"X-Telegram-Bot-Api-Secret-Token": {"tg-secret-token"}}, update); status != http.StatusOK {
		t.Fatalf("telegram webhook after the erasure: %d %s", status, out)
	}
	convs := need(h.admin.Conversations.ListConversations(ctx, &batonv1.ListConversationsRequest{
		Filter: &batonv1.ConversationFilter{ChannelId: w.channel.GetId()},
	}))(t).GetConversations()
	if len(convs) != 2 || convs[0].GetContactId() == contact.GetId() {
		t.Errorf("after the erasure the customer wrote into %v, want a new contact's conversation", convs)
	}
}

func listMessages(t *testing.T, h *harness, conversationID string) []*batonv1.Message {
	t.Helper()
	return need(h.admin.Conversations.ListMessages(context.Background(), &batonv1.ListMessagesRequest{ConversationId: conversationID, PageSize: 100}))(t).GetMessages()
}

func listEvents(t *testing.T, h *harness, conversationID string) []*batonv1.Event {
	t.Helper()
	return need(h.admin.Events.ListEvents(context.Background(), &batonv1.ListEventsRequest{
		Filter: &batonv1.EventFilter{ConversationId: conversationID}, PageSize: 1000,
	}))(t).GetEvents()
}

// exportContact reads a contact's export, checks it is one JSON document, and returns it.
func exportContact(t *testing.T, h *harness, contactID string) string {
	t.Helper()
	stream, err := h.admin.Conversations.ExportContact(context.Background(), &batonv1.ExportContactRequest{ContactId: contactID, PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	doc := readChunks(t, 4, stream.Receive, func() []byte { return stream.Msg().GetData() }, stream.Err)
	if !json.Valid([]byte(doc)) {
		t.Fatalf("the export is not JSON:\n%s", doc)
	}
	return doc
}

// readChunks joins a stream's chunks, and checks it sent at least minChunks: one a page.
func readChunks(t *testing.T, minChunks int, receive func() bool, data func() []byte, streamErr func() error) string {
	t.Helper()
	var doc bytes.Buffer
	chunks := 0
	for receive() {
		doc.Write(data())
		chunks++
	}
	if err := streamErr(); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	if chunks < minChunks {
		t.Errorf("the export came in %d chunk(s), want at least %d: one a page", chunks, minChunks)
	}
	return doc.String()
}

// TestExportsAreAuditedAndPaged exports a conversation's transcript as text and JSON, a page
// at a time, and a contact's data; checks who may do it, that the requests are validated, and
// that each export is in the event log for admins, not for the bot.
func TestExportsAreAuditedAndPaged(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	w := h.world(1)
	const messages = 5
	var conv *batonv1.Conversation
	var contactID string
	for i := range messages {
		res := h.ingest(w.channel.GetId(), "ada", fmt.Sprint("m", i), fmt.Sprint("line ", i))
		conv, contactID = res.GetConversation(), res.GetContact().GetId()
	}
	need(w.botAPI.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: conv.GetId(), Content: text("hello  Ada\nhow are you")}))(t)

	stream, err := h.admin.Conversations.ExportTranscript(ctx, &batonv1.ExportTranscriptRequest{
		ConversationId: conv.GetId(), Format: batonv1.TranscriptFormat_TRANSCRIPT_FORMAT_TEXT, PageSize: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	transcript := readChunks(t, messages+1, stream.Receive, func() []byte { return stream.Msg().GetData() }, stream.Err)
	lines := strings.Split(strings.TrimSuffix(transcript, "\n"), "\n")
	if len(lines) != messages+1 {
		t.Fatalf("transcript has %d lines, want %d:\n%s", len(lines), messages+1, transcript)
	}
	for i := range messages {
		if want := fmt.Sprintf("customer %s: line %d", contactID, i); !strings.HasSuffix(lines[i], want) {
			t.Errorf("line %d = %q, want it to end with %q", i, lines[i], want)
		}
	}
	if want := fmt.Sprintf("bot %s: hello Ada how are you", w.bot.GetId()); !strings.HasSuffix(lines[messages], want) {
		t.Errorf("last line = %q, want it to end with %q", lines[messages], want)
	}

	stream, err = h.admin.Conversations.ExportTranscript(ctx, &batonv1.ExportTranscriptRequest{ConversationId: conv.GetId(), PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Conversation *json.RawMessage `json:"conversation"`
		Messages     []json.RawMessage
	}
	if err := json.Unmarshal([]byte(readChunks(t, (messages+1)/2, stream.Receive, func() []byte { return stream.Msg().GetData() }, stream.Err)), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Conversation == nil || len(doc.Messages) != messages+1 {
		t.Errorf("JSON transcript has conversation %v and %d messages, want %d", doc.Conversation != nil, len(doc.Messages), messages+1)
	}
	exportContact(t, h, contactID)

	// Only admins export a contact; bots do not export transcripts.
	bad := map[string]error{}
	_, bad["a bot exporting a contact"] = receiveAll(w.botAPI.Conversations.ExportContact(ctx, &batonv1.ExportContactRequest{ContactId: contactID}))
	_, bad["an agent exporting a contact"] = receiveAll(w.agentAPI[0].Conversations.ExportContact(ctx, &batonv1.ExportContactRequest{ContactId: contactID}))
	_, bad["a bot exporting a transcript"] = receiveAll(w.botAPI.Conversations.ExportTranscript(ctx, &batonv1.ExportTranscriptRequest{ConversationId: conv.GetId()}))
	_, bad["a bot erasing a contact"] = w.botAPI.Conversations.EraseContact(ctx, &batonv1.EraseContactRequest{ContactId: contactID})
	for what, err := range bad {
		if code(err) != connect.CodePermissionDenied {
			t.Errorf("%s: %v, want PERMISSION_DENIED", what, err)
		}
	}
	invalid := map[string]error{}
	_, invalid["no contact id"] = receiveAll(h.admin.Conversations.ExportContact(ctx, &batonv1.ExportContactRequest{}))
	_, invalid["a page too large"] = receiveAll(h.admin.Conversations.ExportContact(ctx, &batonv1.ExportContactRequest{ContactId: contactID, PageSize: 5000}))
	_, invalid["an unknown format"] = receiveAll(h.admin.Conversations.ExportTranscript(ctx, &batonv1.ExportTranscriptRequest{ConversationId: conv.GetId(), Format: 9}))
	_, invalid["erasing no contact"] = h.admin.Conversations.EraseContact(ctx, &batonv1.EraseContactRequest{})
	for what, err := range invalid {
		if code(err) != connect.CodeInvalidArgument {
			t.Errorf("%s: %v, want INVALID_ARGUMENT", what, err)
		}
	}
	if _, err := h.admin.Conversations.EraseContact(ctx, &batonv1.EraseContactRequest{ContactId: "ct_missing"}); code(err) != connect.CodeNotFound {
		t.Errorf("erasing an unknown contact: %v, want NOT_FOUND", err)
	}

	audit := &batonv1.EventFilter{Types: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_CONTACT_EXPORTED, batonv1.EventType_EVENT_TYPE_CONVERSATION_EXPORTED}}
	logged := need(h.admin.Events.ListEvents(ctx, &batonv1.ListEventsRequest{Filter: audit}))(t).GetEvents()
	var kinds []batonv1.EventType
	for _, e := range logged {
		kinds = append(kinds, e.GetType())
		if e.GetActor().GetKind() != batonv1.ActorKind_ACTOR_KIND_ADMIN || e.GetActor().GetId() == "" || e.GetContactId() != contactID || e.GetCreateTime() == nil {
			t.Errorf("audit event %v lacks who, when or what", e)
		}
	}
	want := []batonv1.EventType{batonv1.EventType_EVENT_TYPE_CONVERSATION_EXPORTED, batonv1.EventType_EVENT_TYPE_CONVERSATION_EXPORTED, batonv1.EventType_EVENT_TYPE_CONTACT_EXPORTED}
	if !slices.Equal(kinds, want) {
		t.Errorf("audit events %v, want %v", kinds, want)
	}
	if seen := need(w.botAPI.Events.ListEvents(ctx, &batonv1.ListEventsRequest{Filter: audit}))(t).GetEvents(); len(seen) != 0 {
		t.Errorf("the bot reads the audit events %v", seen)
	}
}

// receiveAll reads a stream to its end and returns how many messages came and its error.
func receiveAll[T any](stream *connect.ServerStreamForClient[T], err error) (int, error) {
	if err != nil {
		return 0, err
	}
	defer stream.Close()
	n := 0
	for stream.Receive() {
		n++
	}
	return n, stream.Err()
}
