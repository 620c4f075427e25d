package rpc

import (
	"testing"

	"connectrpc.com/connect"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

func TestGetChannelCapabilities(t *testing.T) {
	var h Handlers // the capabilities are a table: no App needed
	values := batonv1.ChannelKind(0).Descriptor().Values()
	for i := range values.Len() {
		kind := batonv1.ChannelKind(values.Get(i).Number())
		if kind == batonv1.ChannelKind_CHANNEL_KIND_UNSPECIFIED {
			continue
		}
		res, err := h.GetChannelCapabilities(t.Context(), &batonv1.GetChannelCapabilitiesRequest{Kind: kind})
		if err != nil {
			t.Errorf("%v: %v", kind, err)
			continue
		}
		c := res.GetCapabilities()
		if c.GetKind() != kind || c.GetMaxTextLength() == 0 {
			t.Errorf("%v: capabilities %v", kind, c)
		}
	}

	// Validation refuses these before the handler; the handler refuses them all the same.
	for _, kind := range []batonv1.ChannelKind{batonv1.ChannelKind_CHANNEL_KIND_UNSPECIFIED, 99} {
		_, err := h.GetChannelCapabilities(t.Context(), &batonv1.GetChannelCapabilitiesRequest{Kind: kind})
		if connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("%v: %v, want INVALID_ARGUMENT", kind, err)
		}
	}
}
