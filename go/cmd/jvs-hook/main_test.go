package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jvs "github.com/jvs-project/jvs/go"
)

// hook runs the command and returns its exit code, stdout and stderr.
func hook(ctx context.Context, env map[string]string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(ctx, args, &out, &errOut, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

// newRepo initialises a repository in a temporary directory, closed after the test.
func newRepo(t *testing.T) *jvs.Workspace {
	t.Helper()
	ws, err := jvs.Init(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func TestHookSnapshotsAndPrintsTheID(t *testing.T) {
	ctx := context.Background()
	ws := newRepo(t)
	os.MkdirAll(filepath.Join(ws.Path(), "build"), 0o755)
	os.WriteFile(filepath.Join(ws.Path(), "build", "out.bin"), []byte("artifact"), 0o644)

	code, out, errOut := hook(ctx, map[string]string{"GITHUB_SHA": "0123abc"}, "-tag", "ci", "-tag", "nightly",
		"-progress", filepath.Join(ws.Path(), "build"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "jvs-hook: sync") {
		t.Errorf("no progress on stderr: %q", errOut)
	}
	hist, err := ws.History(ctx, nil)
	if err != nil || len(hist) != 1 {
		t.Fatalf("History: %v %+v", err, hist)
	}
	s := hist[0]
	if strings.TrimSpace(out) != s.ID || s.Note != "jvs-hook: commit 0123abc" || strings.Join(s.Tags, ",") != "ci,nightly" {
		t.Fatalf("printed %q; snapshot %+v", out, s)
	}

	code, out, errOut = hook(ctx, nil, "-json", "-note", "partial", "-path", "build", ws.Path())
	var printed jvs.Snapshot
	if code != 0 || json.Unmarshal([]byte(out), &printed) != nil || printed.Note != "partial" ||
		printed.ParentID != s.ID || len(printed.PartialPaths) != 1 {
		t.Fatalf("exit %d, %q, %s", code, out, errOut)
	}
}

func TestHookExitCodes(t *testing.T) {
	ctx := context.Background()
	ws := newRepo(t)

	if code, _, errOut := hook(ctx, nil, t.TempDir()); code != 3 || !strings.Contains(errOut, "E_NOT_REPO") {
		t.Errorf("not a repository: exit %d, %s", code, errOut)
	}
	if code, _, errOut := hook(ctx, nil, "-tag", "-bad", ws.Path()); code != 2 || !strings.Contains(errOut, "E_TAG_INVALID") {
		t.Errorf("bad tag: exit %d, %s", code, errOut)
	}
	if code, _, _ := hook(ctx, nil, "-nosuchflag"); code != 2 {
		t.Errorf("bad flag: exit %d", code)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel() // as SIGINT does
	if code, out, errOut := hook(cancelled, nil, ws.Path()); code != 130 || out != "" || !strings.Contains(errOut, "E_CANCELLED") {
		t.Errorf("cancelled: exit %d, %q, %s", code, out, errOut)
	}

	first, _ := ws.Snapshot(ctx, "one", nil)
	ws.Snapshot(ctx, "two", nil)
	ws.Restore(ctx, first.ID, nil)
	if code, _, errOut := hook(ctx, nil, ws.Path()); code != 6 || !strings.Contains(errOut, "E_DETACHED") {
		t.Errorf("detached: exit %d, %s", code, errOut)
	}
}
