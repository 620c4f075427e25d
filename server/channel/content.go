package channel

import (
	"bytes"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

// EncodeContent encodes message content as Baton stores it: the API's JSON encoding. The JSON
// is compacted because protojson deliberately varies its whitespace between builds, and stored
// bytes should not.
func EncodeContent(c *batonv1.MessageContent) (json.RawMessage, error) {
	b, err := protojson.MarshalOptions{}.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode content: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, fmt.Errorf("encode content: %w", err)
	}
	return buf.Bytes(), nil
}

// DecodeContent decodes stored content; empty content decodes to nil. Unknown fields are
// dropped so that content written by a newer server stays readable.
func DecodeContent(raw json.RawMessage) (*batonv1.MessageContent, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	c := new(batonv1.MessageContent)
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, c); err != nil {
		return nil, fmt.Errorf("decode content: %w", err)
	}
	return c, nil
}
