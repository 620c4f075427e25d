package rpc

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

// toConnect maps an application error to the Connect code and details a client can act on.
// Unknown errors are logged and returned as INTERNAL without their text, which may hold SQL.
func toConnect(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var (
		notFound     *domain.NotFoundError
		ownership    *domain.OwnershipError
		precondition *domain.PreconditionError
		permission   *domain.PermissionError
		invalid      *domain.InvalidError
		gone         *domain.EventsGoneError
		connectErr   *connect.Error
	)
	switch {
	case errors.As(err, &connectErr):
		return connectErr
	case errors.As(err, &notFound):
		return withDetails(connect.CodeNotFound, err, &errdetails.ResourceInfo{
			ResourceType: notFound.Kind, ResourceName: notFound.ID, Description: err.Error(),
		})
	case errors.As(err, &ownership):
		return withDetails(connect.CodeFailedPrecondition, err,
			&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{
				Type: "OWNERSHIP", Subject: ownership.Subject, Description: ownership.Reason,
			}}},
			&batonv1.OwnershipInfo{
				ConversationId: ownership.ConversationID, Owner: ownerToProto(ownership.Owner), Epoch: ownership.Epoch,
			})
	case errors.As(err, &precondition):
		return withDetails(connect.CodeFailedPrecondition, err,
			&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{
				Type: "STATE", Subject: precondition.Subject, Description: precondition.Reason,
			}}})
	case errors.As(err, &permission):
		return withDetails(connect.CodePermissionDenied, err, &errdetails.ErrorInfo{Reason: "FORBIDDEN", Domain: "baton"})
	case errors.As(err, &invalid):
		return withDetails(connect.CodeInvalidArgument, err, &errdetails.BadRequest{
			FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: invalid.Field, Description: invalid.Reason}},
		})
	case errors.As(err, &gone):
		return withDetails(connect.CodeOutOfRange, err, &batonv1.EventsGoneInfo{
			AfterSequence: gone.After, EarliestSequence: gone.Earliest,
		})
	case errors.Is(err, domain.ErrStaleEtag):
		return withDetails(connect.CodeAborted, domain.ErrStaleEtag, &errdetails.ErrorInfo{Reason: "STALE_ETAG", Domain: "baton"})
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, store.ErrConflict):
		// ABORTED is for the caller's stale etag only: a race the server lost is its own, and
		// the same call may succeed when tried again.
		return withDetails(connect.CodeUnavailable, errUnavailable, &errdetails.RetryInfo{RetryDelay: durationpb.New(time.Second)})
	case errors.Is(err, store.ErrDuplicate):
		return withDetails(connect.CodeAlreadyExists, err, &errdetails.ErrorInfo{Reason: "ALREADY_EXISTS", Domain: "baton"})
	case errors.Is(err, store.ErrBadCursor):
		return withDetails(connect.CodeInvalidArgument, err, &errdetails.BadRequest{
			FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "page_token", Description: "malformed page token"}},
		})
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, err)
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, err)
	}
	slog.ErrorContext(ctx, "internal error", "error", err)
	return connect.NewError(connect.CodeInternal, errors.New("internal error"))
}

// errUnavailable is what a caller is told of a database it cannot be served by right now.
var errUnavailable = errors.New("the database is unavailable right now: try again")

func withDetails(code connect.Code, err error, details ...proto.Message) error {
	ce := connect.NewError(code, err)
	for _, d := range details {
		if detail, derr := connect.NewErrorDetail(d); derr == nil {
			ce.AddDetail(detail)
		}
	}
	return ce
}
