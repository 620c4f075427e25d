package serve

import (
	"context"
	"errors"
	"net/http"

	"connectrpc.com/grpchealth"

	"github.com/batonhq/baton/server/store"
)

// Liveness and readiness, apart: a live server answers /livez while its process serves; a
// ready one answers /readyz (and gRPC health) while its database answers, holds every migration
// of this binary, and the server is not draining for a shutdown. A load balancer sends traffic
// to ready servers; an orchestrator restarts servers that are not live.

// ready says why the server should not get new traffic now, or nil.
func (s *Server) ready(ctx context.Context) error {
	if s.draining.Load() {
		return errDraining
	}
	return s.cfg.Store.Ready(ctx)
}

var errDraining = errors.New("draining: the server is shutting down")

// livez answers 200 while the process serves.
func (s *Server) livez(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) }

// readyz answers 200 when the server is ready, 503 with the reason otherwise.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.ready(r.Context()); err != nil {
		s.cfg.Logger.WarnContext(r.Context(), "not ready", "error", err)
		http.Error(w, readiness(err), http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ok\n"))
}

// readiness is the reason given to a health check: never the database's own message.
func readiness(err error) string {
	switch {
	case errors.Is(err, errDraining):
		return errDraining.Error()
	case errors.Is(err, store.ErrMigrationsPending):
		return store.ErrMigrationsPending.Error()
	}
	return "database unavailable"
}

// readyChecker is gRPC health following readiness: every service (and the server, "") is
// SERVING exactly when the server is ready.
type readyChecker struct {
	s     *Server
	known *grpchealth.StaticChecker
}

func (c readyChecker) Check(ctx context.Context, req *grpchealth.CheckRequest) (*grpchealth.CheckResponse, error) {
	if _, err := c.known.Check(ctx, req); err != nil {
		return nil, err // an unknown service
	}
	if c.s.ready(ctx) != nil {
		return &grpchealth.CheckResponse{Status: grpchealth.StatusNotServing}, nil
	}
	return &grpchealth.CheckResponse{Status: grpchealth.StatusServing}, nil
}

var _ grpchealth.Checker = readyChecker{}
