package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeWalkthrough runs the README's walkthrough, as written but for the server's address
// and the binary (this test's server and BATON_BIN's, or one it builds), with bash, curl and
// jq, and checks what its synchronous calls print: the API it shows still answers as it says.
func TestReadmeWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the walkthrough needs %s", tool)
		}
	}
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, walk, ok := strings.Cut(string(readme), "\n## Walkthrough\n")
	if ok {
		_, walk, ok = strings.Cut(walk, "```bash\n")
	}
	if ok {
		walk, _, ok = strings.Cut(walk, "\n```")
	}
	if !ok {
		t.Fatal("README.md has no walkthrough in a ```bash block")
	}
	const build, url = "go build -o baton ./server/cmd/baton\n", "URL=http://127.0.0.1:8080\n"
	if !strings.Contains(walk, build) || !strings.Contains(walk, url) {
		t.Fatalf("the walkthrough no longer has the lines %q and %q this test replaces", build, url)
	}

	dir := t.TempDir()
	bin := os.Getenv("BATON_BIN")
	if bin == "" {
		bin = filepath.Join(dir, "baton-built")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	data := filepath.Join(dir, "data")
	s := startServe(t, data)
	walk = strings.Replace(walk, build, "cp "+bin+" baton\n", 1)
	walk = strings.Replace(walk, url, "URL=http://"+s.Address+"\n", 1)

	cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", walk)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BATON_DATA_DIR="+data) // keys create writes the server's database
	// A file, not a pipe: the heartbeat loop's last sleep may outlive the script, holding it.
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stderr = stderr
	out, err := cmd.Output()
	errOut, _ := os.ReadFile(stderr.Name())
	if err != nil {
		t.Fatalf("walkthrough: %v\n%s\n%s", err, out, errOut)
	}
	for _, want := range []string{
		`"PRESENCE_ONLINE"`,
		`"DELIVERY_STATUS_PENDING"`,
		`{"kind":"OWNER_KIND_AGENT","id":"agt_`,
		`{"code":"failed_precondition","message":"the bot does not own the conversation`,
		`{"kind":"ACTOR_KIND_AGENT","id":"agt_`,
		`{"kind":"OWNER_KIND_BOT","id":"bot_`,
		"[\"OWNER_KIND_BOT\",\"1\",\"new conversation\"]\n[\"OWNER_KIND_QUEUE\",\"2\",\"parcel lost\"]\n" +
			"[\"OWNER_KIND_AGENT\",\"3\",\"accepted\"]\n[\"OWNER_KIND_BOT\",\"4\",\"handed back: resolved\"]\n",
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("the walkthrough did not print %q:\n%s\n%s", want, out, errOut)
		}
	}
}
