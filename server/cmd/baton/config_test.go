package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
)

// serveOnce runs "baton serve" with ctx already done: past its configuration, opening the
// store ends it with context.Canceled, which serveOnce reports as nil; a refused
// configuration returns its error before that.
func serveOnce(t *testing.T, args ...string) error {
	t.Helper()
	return serveIn(t, t.TempDir(), args...)
}

func serveIn(t *testing.T, dir string, args ...string) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	err := run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dir}, args...), &out, &errOut)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// TestServeStarts is the control for the refusals below: the same command line starts.
func TestServeStarts(t *testing.T) {
	if err := serveOnce(t); err != nil {
		t.Fatal(err)
	}
}

// TestEnvValueMustParse checks an environment value that does not parse stops serve, as
// the flag would, instead of starting with the default.
func TestEnvValueMustParse(t *testing.T) {
	t.Setenv("BATON_HEARTBEAT_TIMEOUT", "ninety seconds")
	err := serveOnce(t)
	if err == nil || !strings.Contains(err.Error(), "BATON_HEARTBEAT_TIMEOUT") {
		t.Fatalf("serve with BATON_HEARTBEAT_TIMEOUT=%q = %v; want an error naming the setting", "ninety seconds", err)
	}
}

func TestAllowedOriginsValidated(t *testing.T) {
	for _, bad := range []string{"desk.example", "https://desk.example/app", "ftp://desk.example", "https://"} {
		if err := serveOnce(t, "--allowed-origins", "https://ok.example,"+bad); err == nil || !strings.Contains(err.Error(), "--allowed-origins") {
			t.Errorf("--allowed-origins %q = %v; want an error", bad, err)
		}
	}
	if err := serveOnce(t, "--allowed-origins", "https://desk.example, http://127.0.0.1:3000"); err != nil {
		t.Errorf("valid origins refused: %v", err)
	}
}

// TestSecondServerOnDataDirRefused holds the data directory's lock as a running server would
// and checks another serve refuses to start on it.
func TestSecondServerOnDataDirRefused(t *testing.T) {
	dir := t.TempDir()
	release, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	err = serveIn(t, dir)
	if err == nil || !strings.Contains(err.Error(), "another Baton server") || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("second serve = %v; want a refusal that names PostgreSQL for replicas", err)
	}
	release()
	if err := serveIn(t, dir); err != nil {
		t.Fatalf("serve once the lock is released: %v", err)
	}
}

func TestVersion(t *testing.T) {
	out, err := runCmd(t, "version")
	if err != nil || !strings.HasPrefix(out, "baton ") || !strings.Contains(out, "go1.") {
		t.Fatalf("version = %q, %v", out, err)
	}
}

// TestEveryCommandHasHelp checks -h prints a usage for every command and sub-command.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, args := range [][]string{
		{"-h"}, {"serve", "-h"}, {"migrate", "-h"}, {"keys", "-h"}, {"keys", "create", "-h"},
		{"keys", "list", "-h"}, {"keys", "delete", "-h"}, {"bench", "-h"}, {"bench", "ingest", "-h"},
		{"bench", "sqlite-ceiling", "-h"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, &out, &errOut)
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(out.String()+errOut.String(), "Usage") {
			t.Errorf("%v printed no usage: %q", args, out.String()+errOut.String())
		}
	}
}

func TestLogSettingsValidated(t *testing.T) {
	for _, args := range [][]string{{"--log-format", "xml"}, {"--log-level", "loud"}} {
		if err := serveOnce(t, args...); err == nil || !strings.Contains(err.Error(), "--log-") {
			t.Errorf("serve %v = %v; want an error", args, err)
		}
	}
	if err := serveOnce(t, "--log-format", "json", "--log-level", "debug"); err != nil {
		t.Errorf("valid log settings refused: %v", err)
	}
}

func TestRetentionSettingsValidated(t *testing.T) {
	for _, args := range [][]string{{"--retention-messages", "30m"}, {"--retention-events", "-1h"}, {"--retention-deliveries", "1ns"}} {
		if err := serveOnce(t, args...); err == nil || !strings.Contains(err.Error(), "--retention-") {
			t.Errorf("serve %v = %v; want an error", args, err)
		}
	}
	t.Setenv("BATON_RETENTION_EVENTS", "720h")
	if err := serveOnce(t, "--retention-messages", "0", "--retention-deliveries", "1h"); err != nil {
		t.Errorf("valid retention settings refused: %v", err)
	}
}
