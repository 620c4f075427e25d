package gateway

import (
	"testing"

	"buf.build/go/protovalidate"

	"github.com/batonhq/baton/server/channel"
)

// FuzzParseGeneric feeds the generic webhook's parser any body: it never panics, and what it
// accepts holds 1 to 100 messages, each of which validates or is refused on its own.
func FuzzParseGeneric(f *testing.F) {
	f.Add([]byte(`{"messages":[{"id":"src-1","contact":{"externalId":"cust-7","displayName":"Ada"},"content":{"text":{"text":"Hello"}}}]}`))
	f.Add([]byte(`{"messages":[{"id":"x","contact":{"external_id":"c"},"content":{"location":{"latitude":52.5,"longitude":13.4}}},{"id":""}]}`))
	f.Add([]byte(`{"messages":[]}`))
	f.Add([]byte(`{"messages":[`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseGeneric(body)
		if err != nil {
			return
		}
		if n := len(p.GetMessages()); n == 0 || n > maxGenericMessages {
			t.Fatalf("accepted %d messages", n)
		}
		for _, m := range p.GetMessages() {
			_ = protovalidate.Validate(m) // refused alone when invalid; must not panic
			if m.GetContent() != nil {
				if _, err := channel.EncodeContent(m.GetContent()); err != nil {
					t.Fatalf("valid content does not encode: %v", err)
				}
			}
		}
	})
}
