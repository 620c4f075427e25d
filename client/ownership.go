package client

import (
	"errors"
	"fmt"
	"strings"

	"connectrpc.com/connect"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

// OwnershipError is a call refused because someone else owns the conversation, or because the
// caller believed in an epoch that has passed: it names the owner now. Repeating the call
// cannot succeed, so nothing in this module retries it.
type OwnershipError struct {
	ConversationID string
	// Owner is who owns the conversation now.
	Owner *batonv1.Owner
	// Epoch is the conversation's ownership epoch now.
	Epoch uint64
	// Err is the refusal as the server sent it.
	Err *connect.Error
}

func (e *OwnershipError) Error() string {
	owner := strings.ToLower(strings.TrimPrefix(e.Owner.GetKind().String(), "OWNER_KIND_"))
	if id := e.Owner.GetId(); id != "" {
		owner += " " + id
	}
	return fmt.Sprintf("conversation %s is owned by %s at epoch %d: %s", e.ConversationID, owner, e.Epoch, e.Err.Message())
}

func (e *OwnershipError) Unwrap() error { return e.Err }

// AsOwnershipError returns the OwnershipError err carries: a Connect error with a
// baton.v1.OwnershipInfo detail, whatever its code.
func AsOwnershipError(err error) (*OwnershipError, bool) {
	var oe *OwnershipError
	if errors.As(err, &oe) {
		return oe, true
	}
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return nil, false
	}
	for _, d := range ce.Details() {
		if v, derr := d.Value(); derr == nil {
			if info, ok := v.(*batonv1.OwnershipInfo); ok {
				return &OwnershipError{ConversationID: info.GetConversationId(), Owner: info.GetOwner(), Epoch: info.GetEpoch(), Err: ce}, true
			}
		}
	}
	return nil, false
}
