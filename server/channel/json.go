package channel

import (
	"encoding/json"
	"fmt"
)

// JSONText is a value channels send as a JSON string or as a number (Meta's app ids, error
// codes), kept as its text; null is empty.
type JSONText string

// UnmarshalJSON implements json.Unmarshaler.
func (t *JSONText) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*t = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = JSONText(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("a string or a number, not %s", b)
	}
	*t = JSONText(n.String())
	return nil
}
