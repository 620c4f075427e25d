package whatsapp

import (
	"testing"

	"github.com/batonhq/baton/server/channel"
)

// FuzzParse: no payload makes Parse panic, and every update it gives is either understood (it has
// a kind) or says why not (Err).
func FuzzParse(f *testing.F) {
	for _, name := range fixtures(f) {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"location","location":{"latitude":"NaN","longitude":1e999}}]}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[null,{"changes":null},{"changes":[null,{"field":"smb_message_echoes","value":{"message_echoes":[{}]}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		items, err := ParseItems(body)
		if err != nil {
			if items != nil {
				t.Fatalf("an error and items: %v", err)
			}
			return
		}
		for i, it := range items {
			switch {
			case it.Err == nil && it.Kind == 0:
				t.Fatalf("item %d has neither a kind nor an error: %+v", i, it)
			case it.Err == nil && (it.Kind == channel.UpdateMessage || it.Kind == channel.UpdateEcho) && it.Content.GetKind() == nil:
				t.Fatalf("message %d has no content: %+v", i, it)
			case it.Err == nil && it.ChannelMessageID == "":
				t.Fatalf("item %d has no message id: %+v", i, it)
			}
		}
		updates, err := Parse(body)
		if err != nil || len(updates) != len(items) {
			t.Fatalf("Parse gave %d updates (%v), ParseItems %d", len(updates), err, len(items))
		}
	})
}
