package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/peterbourgon/ff/v4"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

// everyCommand calls f with the arguments that select each command of the tree, root first.
func everyCommand(c *ff.Command, args []string, f func(c *ff.Command, args []string)) {
	f(c, args)
	for _, sc := range c.Subcommands {
		everyCommand(sc, append(args[:len(args):len(args)], sc.Name), f)
	}
}

// TestEveryCommandHelpNamesItsFlags walks the command tree, so that a command added later is
// checked too: "-h" and "--help" print its usage and every one of its flags, and succeed.
func TestEveryCommandHelpNamesItsFlags(t *testing.T) {
	var n int
	everyCommand(commands(io.Discard, io.Discard), nil, func(c *ff.Command, args []string) {
		n++
		for _, h := range []string{"-h", "--help"} {
			var out, errOut bytes.Buffer
			err := run(context.Background(), append(args[:len(args):len(args)], h), &out, &errOut)
			if !errors.Is(err, flag.ErrHelp) {
				t.Errorf("baton %v %s = %v; want flag.ErrHelp", args, h, err)
			}
			text := errOut.String()
			if !strings.HasPrefix(text, "Usage: "+c.Usage) {
				t.Errorf("baton %v %s printed %q; want its usage first", args, h, text)
			}
			c.Flags.WalkFlags(func(f ff.Flag) error {
				if name, _ := f.GetLongName(); !strings.Contains(text, "-"+name+" ") {
					t.Errorf("baton %v %s does not name -%s:\n%s", args, h, name, text)
				}
				return nil
			})
			for _, sc := range c.Subcommands {
				if !strings.Contains(text, strings.Join(append(append([]string{"baton"}, args...), sc.Name), " ")) {
					t.Errorf("baton %v %s does not list %s:\n%s", args, h, sc.Name, text)
				}
			}
		}
	})
	if n < 12 {
		t.Fatalf("walked %d commands; the tree has at least 12", n)
	}
}

// TestHelpCommand: "baton help COMMAND..." prints that command's help on stdout.
func TestHelpCommand(t *testing.T) {
	out, err := runCmd(t, "help", "keys", "create")
	if err != nil || !strings.HasPrefix(out, "Usage: baton keys create") || !strings.Contains(out, "-role") {
		t.Fatalf("help keys create = %q, %v", out, err)
	}
	if _, err := runCmd(t, "help", "keys", "frobnicate"); err == nil || !strings.Contains(err.Error(), "keys frobnicate") {
		t.Fatalf("help of an unknown command = %v; want an error naming it", err)
	}
}

// TestUnknownCommand: an unknown or missing command fails, names what was given and what
// exists, and prints the help of the command it was given to.
func TestUnknownCommand(t *testing.T) {
	for _, c := range []struct {
		args       []string
		want, help string
	}{
		{[]string{"frobnicate"}, `unknown baton command "frobnicate" (one of serve, migrate, keys, events, bench, version)`, "Usage: baton COMMAND"},
		{[]string{"keys", "rotate"}, `unknown keys command "rotate" (one of create, list, delete)`, "Usage: baton keys"},
		{[]string{"bench", "nothing"}, `unknown bench command "nothing"`, "Usage: baton bench"},
		{nil, "baton needs a command", "Usage: baton COMMAND"},
		{[]string{"keys"}, "keys needs a command: create, list, delete", "Usage: baton keys"},
		{[]string{"serve", "--nope"}, `unknown flag "nope"`, "Usage: baton serve"},
		{[]string{"version", "now"}, `unexpected arguments ["now"]`, "Usage: baton version"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), c.args, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("baton %v = %v; want an error containing %q", c.args, err, c.want)
		}
		if !strings.HasPrefix(errOut.String(), c.help) {
			t.Errorf("baton %v printed %q; want the help beginning %q", c.args, errOut.String(), c.help)
		}
	}
}

// TestBenchIgnoresServerEnvironment: the bench commands read no BATON_* variable for their
// flags (a server's BATON_DURATION or BATON_LISTEN must not change a benchmark), only
// BATON_URL and BATON_API_KEY as defaults.
func TestBenchIgnoresServerEnvironment(t *testing.T) {
	t.Setenv("BATON_DURATION", "not a duration")
	t.Setenv("BATON_MAX", "not a number")
	out, err := runCmd(t, "bench", "sqlite-ceiling", "--duration", "5s", "--max", "20")
	if err != nil || !strings.Contains(out, "sqlite ceiling") {
		t.Fatalf("bench sqlite-ceiling = %q, %v", out, err)
	}
	t.Setenv("BATON_URL", "http://127.0.0.1:1")
	t.Setenv("BATON_API_KEY", "bk_from_env")
	c := benchIngestCommand(io.Discard)
	if err := c.Parse([]string{"--channel", "ch"}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"url": "http://127.0.0.1:1", "key": "bk_from_env"} {
		if f, _ := c.Flags.GetFlag(name); f.GetValue() != want {
			t.Errorf("--%s = %q; want %q from the environment", name, f.GetValue(), want)
		}
	}
}

// serving is what "baton serve" logs once it listens.
type serving struct{ Msg, Address, Console string }

// startServe runs "baton serve" on a free port and data directory dir until the test ends,
// and returns what it logged once listening. The test fails if serve then ends with an error.
func startServe(t *testing.T, dir string) serving {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json"}, io.Discard, w)
		w.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("serve ended with %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop after its context ended")
		}
	})
	var s serving
	lines := bufio.NewScanner(logs)
	for s.Msg != "baton serving" {
		if !lines.Scan() {
			t.Fatalf("serve ended without saying where it listens: %v", <-done)
		}
		if err := json.Unmarshal(lines.Bytes(), &s); err != nil {
			t.Fatalf("log line %q: %v", lines.Text(), err)
		}
	}
	go io.Copy(io.Discard, logs) // the rest of the log
	return s
}

// TestServeSaysWhere starts a real server on a free port and checks its log says where it
// listens and where the console is, and that both answer there.
func TestServeSaysWhere(t *testing.T) {
	s := startServe(t, t.TempDir())
	if !strings.HasPrefix(s.Address, "127.0.0.1:") || s.Console != "http://"+s.Address+"/console/" {
		t.Fatalf("serving at %q, console at %q", s.Address, s.Console)
	}
	for _, url := range []string{"http://" + s.Address + "/livez", s.Console} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %s", url, resp.Status)
		}
	}
}

// TestEventsPrintsTheStream: "baton events" prints, one JSON line each, the events a running
// server commits, and ends without error when interrupted.
func TestEventsPrintsTheStream(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir)
	admin, err := runCmd(t, "keys", "create", "--data-dir", dir, "--role", "admin")
	if err != nil {
		t.Fatal(err)
	}
	admin = strings.TrimSpace(admin)
	url := "http://" + s.Address
	if _, err := runCmd(t, "events", "--url", url, "--key", "not-a-key", "--after", "0"); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("events with a bad key = %v; want UNAUTHENTICATED", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"events", "--url", url, "--key", admin, "--after", "0"}, w, io.Discard)
		w.Close()
	}()
	c := client.New(url, admin)
	created, err := c.Routing.CreateAgent(context.Background(), &batonv1.CreateAgentRequest{DisplayName: "Ada", QueueIds: []string{"default"}})
	if err != nil {
		t.Fatal(err)
	}
	agentKey, err := c.APIKeys.CreateApiKey(context.Background(), &batonv1.CreateApiKeyRequest{Role: batonv1.Role_ROLE_AGENT, SubjectId: created.GetAgent().GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.New(url, agentKey.GetSecret()).Routing.SetPresence(context.Background(), &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_ONLINE}); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	for {
		if !lines.Scan() {
			t.Fatalf("events ended before the presence change: %v", <-done)
		}
		var e batonv1.SubscribedEvent
		if err := protojson.Unmarshal(lines.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", lines.Text(), err)
		}
		if e.GetEvent().GetType() == batonv1.EventType_EVENT_TYPE_AGENT_PRESENCE_CHANGED && e.GetEvent().GetAgentId() == created.GetAgent().GetId() {
			break
		}
	}
	go io.Copy(io.Discard, out)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("events ended with %v when interrupted; want nil", err)
	}
}
