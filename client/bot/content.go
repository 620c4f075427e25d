package bot

import batonv1 "github.com/batonhq/baton/gen/baton/v1"

// Text is plain text content.
func Text(s string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Text{Text: &batonv1.TextContent{Text: s}}}
}

// QuickReplies is text with quick-reply chips.
func QuickReplies(text string, replies ...*batonv1.QuickReply) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_QuickReplies{QuickReplies: &batonv1.QuickReplies{Text: text, Replies: replies}}}
}

// QuickReply is a chip; tapping it sends payload back as a postback.
func QuickReply(title, payload string) *batonv1.QuickReply {
	return &batonv1.QuickReply{Title: title, Payload: payload}
}

// Buttons is text with buttons.
func Buttons(text string, buttons ...*batonv1.Button) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Buttons{Buttons: &batonv1.ButtonsContent{Text: text, Buttons: buttons}}}
}

// PostbackButton sends payload back as a postback when tapped.
func PostbackButton(title, payload string) *batonv1.Button {
	return &batonv1.Button{Title: title, Action: &batonv1.Button_Payload{Payload: payload}}
}

// LinkButton opens url when tapped.
func LinkButton(title, url string) *batonv1.Button {
	return &batonv1.Button{Title: title, Action: &batonv1.Button_Url{Url: url}}
}

// ToQueue targets a handoff at a queue.
func ToQueue(id string) *batonv1.HandoverTarget {
	return &batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_QueueId{QueueId: id}}
}

// ToSkill targets a handoff at any agent with a skill.
func ToSkill(skill string) *batonv1.HandoverTarget {
	return &batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_Skill{Skill: skill}}
}

// ToAgent targets a handoff at one agent.
func ToAgent(id string) *batonv1.HandoverTarget {
	return &batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_AgentId{AgentId: id}}
}

// TextOf is what the customer said: a text message's text, or the payload of the button or
// quick reply they tapped; empty for other content.
func TextOf(m *batonv1.Message) string {
	c := m.GetContent()
	if p := c.GetPostback(); p != nil {
		return p.GetPayload()
	}
	return c.GetText().GetText()
}
