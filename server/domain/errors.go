package domain

import (
	"errors"
	"fmt"
)

// NotFoundError says a resource does not exist, or that the caller may not see it: the two get
// the same answer, so that a refusal never tells that a resource exists or whose it is.
type NotFoundError struct {
	Kind string // "conversation", "handover", ...
	ID   string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %q not found", e.Kind, e.ID) }

// NotFound builds a NotFoundError.
func NotFound(kind, id string) error { return &NotFoundError{Kind: kind, ID: id} }

// OwnershipError refuses an action because of who owns the conversation now: the caller is not
// the owner, believes in a stale epoch, or the handover is no longer in a state to act on.
type OwnershipError struct {
	ConversationID string
	Owner          Owner
	Epoch          uint64
	Subject        string // what the precondition is about, e.g. "epoch", "owner", "handover"
	Reason         string
}

func (e *OwnershipError) Error() string {
	return fmt.Sprintf("%s (conversation %s is owned by %s at epoch %d)", e.Reason, e.ConversationID, e.Owner, e.Epoch)
}

// PreconditionError refuses an action whose precondition does not hold and that is not
// about ownership: deleting a queue still in use, accepting beyond capacity.
type PreconditionError struct {
	Subject string
	Reason  string
}

func (e *PreconditionError) Error() string { return e.Reason }

// Precondition builds a PreconditionError.
func Precondition(subject, format string, args ...any) error {
	return &PreconditionError{Subject: subject, Reason: fmt.Sprintf(format, args...)}
}

// PermissionError says the caller's kind of key may not do this at all (a bot accepting a
// handover, an agent changing configuration). A resource outside the caller's scope is a
// NotFoundError instead.
type PermissionError struct{ Reason string }

func (e *PermissionError) Error() string { return e.Reason }

// Forbidden builds a PermissionError.
func Forbidden(format string, args ...any) error {
	return &PermissionError{Reason: fmt.Sprintf(format, args...)}
}

// InvalidError says a request is well-formed but makes no sense for the current data.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Reason }

// Invalid builds an InvalidError.
func Invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ErrStaleEtag says a resource changed since the caller read it.
var ErrStaleEtag = errors.New("the resource changed since it was read: read it again and retry")

func ownership(c Conversation, subject, format string, args ...any) error {
	return &OwnershipError{
		ConversationID: c.ID,
		Owner:          c.Owner,
		Epoch:          c.Epoch,
		Subject:        subject,
		Reason:         fmt.Sprintf(format, args...),
	}
}
