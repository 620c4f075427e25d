package domain

// Note records an internal note by author: a message between agents, kept in the transcript and
// its event, never sent to the customer or a channel (it is not outbound, so no sender picks it
// up) and never shown to bots. Agents and admins write notes, whoever owns the conversation;
// bots do not. A note changes nothing of the conversation: the change carries only its event,
// which names no bot, so no bot's stream or webhook is given it.
func Note(s Situation, author Actor, m Message) (Change, error) {
	if author.Kind != ActorAgent && author.Kind != ActorAdmin {
		return Change{}, Forbidden("only agents and admins write internal notes")
	}
	m.Direction = Internal
	m.Sender = author
	m.Status = ""
	m.Epoch = s.Conversation.Epoch
	t := begin(s, author)
	t.emit(EventNoteCreated, func(e *Event) { e.Message = &m })
	ch := t.finish()
	for i := range ch.Events {
		ch.Events[i].BotID = ""
	}
	ch.Conversation = s.Conversation
	return ch, nil
}

// VisibleTo reports whether p may read message m: everyone who may read the conversation reads
// its messages, except internal notes, which bots never see.
func (m Message) VisibleTo(p Principal) bool {
	return m.Direction != Internal || p.Role != PrincipalBot
}
