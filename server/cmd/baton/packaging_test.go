package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// repoRoot is where the Dockerfile, compose.yaml and docs are, from this package's directory.
const repoRoot = "../../.."

// TestStaticBinary checks baton built as the Dockerfile builds it (CGO_ENABLED=0) runs on its
// own: it is statically linked (no ELF interpreter, no shared library), which the image's base,
// with no C library, needs, and "baton version" works. scripts/test builds that binary first
// and names it in BATON_BIN (its other tests run it too); without it, the test builds one.
func TestStaticBinary(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("checks an ELF binary")
	}
	bin := os.Getenv("BATON_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "baton")
		build := exec.Command("go", "build", "-o", bin, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary names an ELF interpreter: it is dynamically linked")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v (%v)", libs, err)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !regexp.MustCompile(`^baton \S+ .*go1\.\d+`).Match(out) {
		t.Fatalf("baton version = %q, %v", out, err)
	}
}

// TestDockerfile checks the image is built as the test above builds the binary, and runs it
// as a non-root user on a minimal base.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var from []string
	var user string
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		switch fields[0] {
		case "FROM":
			from = append(from, fields[1])
		case "USER":
			user = fields[1]
		}
	}
	if len(from) != 2 || !strings.HasPrefix(from[0], "golang:") || !strings.HasPrefix(from[1], "gcr.io/distroless/static") {
		t.Errorf("stages FROM %v; want a golang build stage and a distroless static one", from)
	}
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("USER %q; want a non-root user", user)
	}
	if !strings.Contains(string(b), "CGO_ENABLED=0 go build") || !strings.Contains(string(b), "./server/cmd/baton") {
		t.Error("the image does not build ./server/cmd/baton with CGO_ENABLED=0")
	}
}

// compose is the part of a compose file the test reads.
type compose struct {
	Services map[string]struct {
		Image       string
		Build       any
		Command     []string
		Environment map[string]string
		Ports       []string
		Volumes     []string
		DependsOn   map[string]struct{ Condition string } `yaml:"depends_on"`
	}
}

// TestComposeFile parses compose.yaml and checks it runs what docs/deployment.md says:
// PostgreSQL, two Baton replicas on it reporting to an OpenTelemetry collector, and the
// collector's configuration, and that the document names every service, image and port.
func TestComposeFile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(c.Services))
	for name := range c.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{"baton-1", "baton-2", "otel-collector", "postgres"}; !slices.Equal(names, want) {
		t.Fatalf("services %v; want %v", names, want)
	}
	if img := c.Services["postgres"].Image; !strings.HasPrefix(img, "postgres:") {
		t.Errorf("postgres image %q", img)
	}
	if img := c.Services["otel-collector"].Image; !strings.HasPrefix(img, "otel/opentelemetry-collector") {
		t.Errorf("collector image %q", img)
	}
	collector := c.Services["otel-collector"]
	if !slices.ContainsFunc(collector.Volumes, func(v string) bool { return strings.HasPrefix(v, "./deploy/otel-collector.yaml:") }) {
		t.Errorf("the collector does not mount deploy/otel-collector.yaml: %v", collector.Volumes)
	}
	var collectorConfig struct {
		Receivers map[string]any
		Service   struct {
			Pipelines map[string]struct{ Receivers []string }
		}
	}
	if b, err := os.ReadFile(filepath.Join(repoRoot, "deploy/otel-collector.yaml")); err != nil {
		t.Fatal(err)
	} else if err := yaml.Unmarshal(b, &collectorConfig); err != nil {
		t.Fatal(err)
	}
	if _, ok := collectorConfig.Receivers["otlp"]; !ok || !slices.Contains(collectorConfig.Service.Pipelines["traces"].Receivers, "otlp") {
		t.Errorf("the collector has no OTLP traces pipeline: %+v", collectorConfig)
	}

	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs/deployment.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := func(what string) {
		if !strings.Contains(string(doc), what) {
			t.Errorf("docs/deployment.md does not name %q", what)
		}
	}
	for _, name := range names {
		documented(name)
	}
	for _, replica := range []string{"baton-1", "baton-2"} {
		s := c.Services[replica]
		if s.Build == nil || s.Image == "" || !slices.Equal(s.Command, []string{"serve"}) {
			t.Errorf("%s: build %v, image %q, command %v; want the Dockerfile's image serving", replica, s.Build, s.Image, s.Command)
		}
		if !strings.HasPrefix(s.Environment["BATON_DATABASE_URL"], "postgres://") || !strings.Contains(s.Environment["BATON_DATABASE_URL"], "@postgres:5432/") {
			t.Errorf("%s: BATON_DATABASE_URL %q; replicas need the postgres service", replica, s.Environment["BATON_DATABASE_URL"])
		}
		if s.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"] != "http://otel-collector:4318" {
			t.Errorf("%s: OTEL_EXPORTER_OTLP_ENDPOINT %q; want the collector", replica, s.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"])
		}
		if s.DependsOn["postgres"].Condition != "service_healthy" {
			t.Errorf("%s does not wait for PostgreSQL to be healthy", replica)
		}
		for v := range s.Environment {
			documented(v)
		}
		if len(s.Ports) != 1 {
			t.Fatalf("%s ports %v", replica, s.Ports)
		}
		documented(strings.Split(s.Ports[0], ":")[1]) // the published port
	}
	if c.Services["baton-1"].Ports[0] == c.Services["baton-2"].Ports[0] {
		t.Error("the replicas publish the same port")
	}
}
