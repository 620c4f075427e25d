package telegram

import (
	"encoding/json"
	"strings"
)

// CallbackAnswer is the body to answer the webhook request of a button press with, once the
// press is stored (status 200, Content-Type application/json): Telegram then calls the method
// it names ("making requests when getting updates"), here answerCallbackQuery, without which
// the user's client shows a progress indicator on the button for a while. ok is false when
// channelMessageID is not a press's ("cb:<callback query id>"); any 200 answer will do then.
func CallbackAnswer(channelMessageID string) (body []byte, ok bool) {
	id, ok := strings.CutPrefix(channelMessageID, CallbackPrefix)
	if !ok || id == "" {
		return nil, false
	}
	b, err := json.Marshal(struct {
		Method          string `json:"method"`
		CallbackQueryID string `json:"callback_query_id"`
	}{"answerCallbackQuery", id})
	return b, err == nil
}
