package jvs

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestSnapshotRestoreHistory(t *testing.T) {
	ctx := context.Background()
	ws := newRepo(t)
	if ws.Worktree() != "main" || ws.Path() != filepath.Join(ws.Root(), "main") || ws.RepoID() == "" {
		t.Fatalf("workspace: worktree %q path %q root %q", ws.Worktree(), ws.Path(), ws.Root())
	}
	writeFile(t, ws.Path(), "model/weights.bin", "v1")
	writeFile(t, ws.Path(), "notes.txt", "first")

	var phases []string
	first := mustSnapshot(t, ws, "baseline", &SnapshotOptions{Tags: []string{"base", "v1"},
		Progress: func(ev Event) error {
			if ev.Kind == "progress" && (len(phases) == 0 || phases[len(phases)-1] != ev.Phase) {
				phases = append(phases, ev.Phase)
			}
			if ev.Op != "snapshot" || len(ev.Raw) == 0 {
				t.Errorf("event %+v", ev)
			}
			return nil
		}})
	if strings.Join(phases, ",") != "scan,copy,sync" {
		t.Errorf("phases %v", phases)
	}
	if first.Note != "baseline" || first.Worktree != "main" || first.ParentID != "" || first.Engine == "" ||
		strings.Join(first.Tags, ",") != "base,v1" || first.CreatedAt.IsZero() || len(first.PayloadRootHash) != 64 {
		t.Fatalf("first snapshot %+v", first)
	}
	if d := time.Since(first.CreatedAt); d < 0 || d > time.Minute {
		t.Errorf("created_at %v is not now", first.CreatedAt)
	}

	writeFile(t, ws.Path(), "model/weights.bin", "v2")
	os.Remove(filepath.Join(ws.Path(), "notes.txt"))
	writeFile(t, ws.Path(), "extra.txt", "new")
	second := mustSnapshot(t, ws, "trained", nil)
	if second.ParentID != first.ID {
		t.Fatalf("parent %q, want %q", second.ParentID, first.ID)
	}

	hist, err := ws.History(ctx, nil)
	if err != nil || len(hist) != 2 || hist[0].ID != second.ID || hist[1].ID != first.ID {
		t.Fatalf("History: %v %+v", err, hist)
	}
	if h, err := ws.History(ctx, &HistoryOptions{Tag: "v1"}); err != nil || len(h) != 1 || h[0].ID != first.ID {
		t.Fatalf("History tag: %v %+v", err, h)
	}
	if h, err := ws.History(ctx, &HistoryOptions{Grep: "train", Limit: 5, All: true}); err != nil || len(h) != 1 || h[0].ID != second.ID {
		t.Fatalf("History grep: %v %+v", err, h)
	}
	if h, err := ws.History(ctx, &HistoryOptions{Limit: 1}); err != nil || len(h) != 1 {
		t.Fatalf("History limit: %v %+v", err, h)
	}

	plan, err := ws.Restore(ctx, "base", &RestoreOptions{DryRun: true})
	if err != nil || !plan.DryRun || plan.SnapshotID != first.ID || plan.MatchedBy != "tag" || len(plan.Changes) != 3 {
		t.Fatalf("dry run: %v %+v", err, plan)
	}
	if readFile(t, ws.Path(), "model/weights.bin") != "v2" {
		t.Fatal("dry run touched the worktree")
	}
	res, err := ws.Restore(ctx, first.ID, nil)
	if err != nil || !res.Detached || res.Stats.Created != 1 || res.Stats.Updated != 1 || res.Stats.Deleted != 1 {
		t.Fatalf("Restore: %v %+v", err, res)
	}
	if readFile(t, ws.Path(), "model/weights.bin") != "v1" || readFile(t, ws.Path(), "notes.txt") != "first" ||
		readFile(t, ws.Path(), "extra.txt") != "<missing>" {
		t.Fatal("restore did not bring the first snapshot back")
	}

	_, err = ws.Snapshot(ctx, "while detached", nil)
	asError(t, err, "E_DETACHED")
	if !errors.Is(err, ErrDetached) || !errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
		t.Fatalf("E_DETACHED families: %v", err)
	}
	if res, err := ws.Restore(ctx, "HEAD", nil); err != nil || res.Detached || res.SnapshotID != second.ID {
		t.Fatalf("Restore HEAD: %v %+v", err, res)
	}
	if readFile(t, ws.Path(), "model/weights.bin") != "v2" {
		t.Fatal("restore HEAD did not return to the latest snapshot")
	}
}

func TestNonASCIINoteAndFileName(t *testing.T) {
	ctx := context.Background()
	ws := newRepo(t)
	name := filepath.Join("données", "日本語 ファイル 🚀.txt")
	note := "снимок ✓ — 日本語のメモ 🚀"
	writeFile(t, ws.Path(), name, "héllo wörld")
	s := mustSnapshot(t, ws, note, &SnapshotOptions{Paths: []string{"données"}})
	if s.Note != note || len(s.PartialPaths) != 1 || s.PartialPaths[0] != "données" {
		t.Fatalf("snapshot %+v", s)
	}
	hist, err := ws.History(ctx, &HistoryOptions{Grep: "日本語"})
	if err != nil || len(hist) != 1 || hist[0].Note != note {
		t.Fatalf("History: %v %+v", err, hist)
	}
	writeFile(t, ws.Path(), name, "changed")
	d, err := ws.Diff(ctx, nil)
	if err != nil || len(d.Modified) != 1 || d.Modified[0].Path != filepath.ToSlash(name) || d.Modified[0].Change != "content" {
		t.Fatalf("Diff: %v %+v", err, d)
	}
	if _, err := ws.Restore(ctx, "снимок", nil); err != nil { // a unique note prefix
		t.Fatalf("Restore by note prefix: %v", err)
	}
	if got := readFile(t, ws.Path(), name); got != "héllo wörld" {
		t.Fatalf("restored content %q", got)
	}
}

func TestDiffWorktreesInfoVerifyCall(t *testing.T) {
	ctx := context.Background()
	ws := newRepo(t)
	writeFile(t, ws.Path(), "a.txt", "a")
	s1 := mustSnapshot(t, ws, "one", nil)
	writeFile(t, ws.Path(), "b.txt", "b")
	s2 := mustSnapshot(t, ws, "two", nil)

	d, err := ws.Diff(ctx, &DiffOptions{From: s1.ID, To: s2.ID})
	if err != nil || d.FromSnapshotID != s1.ID || d.ToSnapshotID != s2.ID || len(d.Added) != 1 || d.Added[0].Path != "b.txt" {
		t.Fatalf("Diff: %v %+v", err, d)
	}
	if d, err := ws.Diff(ctx, &DiffOptions{From: s1.ID, Stat: true}); err != nil || d.Totals.Added != 1 || d.Added != nil || d.ToWorktree != "main" {
		t.Fatalf("Diff stat: %v %+v", err, d)
	}

	info, err := ws.Info(ctx)
	if err != nil || info.TotalSnapshots != 2 || info.TotalWorktrees != 1 || info.Worktree != "main" ||
		info.RepoID != ws.RepoID() || info.Version != Version() || info.Engine == "" {
		t.Fatalf("Info: %v %+v", err, info)
	}

	fork, err := ws.Fork(ctx, "", s1.ID) // the library names it
	if err != nil {
		t.Fatal(err)
	}
	defer fork.Close()
	if fork.Worktree() != "fork-"+s1.ID[14:22] || readFile(t, fork.Path(), "a.txt") != "a" || readFile(t, fork.Path(), "b.txt") != "<missing>" {
		t.Fatalf("fork %q at %q", fork.Worktree(), fork.Path())
	}
	wts, err := ws.Worktrees(ctx)
	if err != nil || len(wts) != 2 || wts[0].Name != fork.Worktree() || wts[1].Name != "main" ||
		wts[0].BaseSnapshotID != s1.ID || wts[1].LatestSnapshotID != s2.ID || wts[0].Path != fork.Path() {
		t.Fatalf("Worktrees: %v %+v", err, wts)
	}

	phases := map[string]bool{}
	rep, err := ws.Verify(ctx, &VerifyOptions{Progress: func(ev Event) error {
		phases[ev.Op+"/"+ev.Phase] = true
		return nil
	}})
	if err != nil || !rep.OK || !rep.PayloadChecked || len(rep.Results) != 2 || !rep.Audit.OK || !phases["verify/verify"] {
		t.Fatalf("Verify: %v %+v (phases %v)", err, rep, phases)
	}
	if rep, err := ws.Verify(ctx, &VerifyOptions{Ref: s1.ID, ChecksumOnly: true}); err != nil || !rep.OK || rep.PayloadChecked || len(rep.Results) != 1 {
		t.Fatalf("Verify one: %v %+v", err, rep)
	}

	// Call reaches the operations without a typed method; params may be any JSON-marshallable value.
	doc, err := ws.Call(ctx, "gc_plan", struct {
		KeepLast int `json:"keep_last"`
	}{1})
	var plan struct {
		Kind       string   `json:"kind"`
		Candidates []string `json:"candidates"`
	}
	if err != nil || json.Unmarshal(doc, &plan) != nil || plan.Kind != "gc_plan" {
		t.Fatalf("Call gc_plan: %v %s", err, doc)
	}
	doc, err = ws.Call(ctx, "resolve", map[string]string{"ref": "HEAD~1"})
	if err != nil || !strings.Contains(string(doc), s1.ID) {
		t.Fatalf("Call resolve: %v %s", err, doc)
	}
	if _, err := BuildInfo(); err != nil {
		t.Fatal(err)
	}
}

func TestInitChoosesTheLayout(t *testing.T) {
	// A folder with files is adopted in place by default; Adopt(false) keeps the standard layout
	// beside them, Adopt(true) adopts even an empty one.
	for _, c := range []struct {
		name    string
		files   bool
		opts    []InitOption
		adopted bool
	}{
		{"default-with-files", true, nil, true},
		{"standard-beside-files", true, []InitOption{Adopt(false)}, false},
		{"default-empty", false, nil, false},
		{"adopted-empty", false, []InitOption{Adopt(true)}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "project")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if c.files {
				writeFile(t, dir, "scene.txt", "level 1")
			}
			ws, err := Init(dir, c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			want := filepath.Join(dir, "main")
			if c.adopted {
				want = dir
			}
			if ws.Path() != want || ws.Root() != dir {
				t.Fatalf("path %q root %q, want path %q", ws.Path(), ws.Root(), want)
			}
			if c.files {
				if _, err := os.Stat(filepath.Join(dir, "scene.txt")); err != nil {
					t.Fatal("the user's file moved:", err)
				}
			}
		})
	}
}

func TestOpenFindsTheWorktreeOfAPath(t *testing.T) {
	ws := newRepo(t)
	writeFile(t, ws.Path(), "sub/dir/x", "x")
	mustSnapshot(t, ws, "s", nil)
	fork, err := ws.Fork(context.Background(), "agent-1", "")
	if err != nil {
		t.Fatal(err)
	}
	fork.Close()
	for dir, want := range map[string]string{
		filepath.Join(ws.Path(), "sub", "dir"):                  "main",
		filepath.Join(ws.Root(), "worktrees", "agent-1", "sub"): "agent-1",
		ws.Root(): "",
	} {
		w, err := Open(dir)
		if err != nil {
			t.Fatalf("Open(%s): %v", dir, err)
		}
		if w.Worktree() != want || w.Root() != ws.Root() {
			t.Errorf("Open(%s): worktree %q root %q", dir, w.Worktree(), w.Root())
		}
		w.Close()
	}
}

func TestCloseIsIdempotentAndWaitsForCalls(t *testing.T) {
	ws := newRepo(t)
	writeFile(t, ws.Path(), "f", "x")
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := ws.Snapshot(context.Background(), "slow", &SnapshotOptions{Progress: func(Event) error {
			select {
			case <-started:
			default:
				close(started)
				<-release
			}
			return nil
		}})
		done <- err
	}()
	<-started
	closed := make(chan struct{})
	go func() { ws.Close(); close(closed) }()
	time.Sleep(100 * time.Millisecond)
	select {
	case <-closed:
		t.Fatal("Close returned while a call was running")
	default:
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the running snapshot failed: %v", err)
	}
	<-closed
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := ws.History(context.Background(), nil)
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	asError(t, err, "E_CLOSED")
}

func TestForgottenWorkspaceIsClosedByTheGC(t *testing.T) {
	ws := newRepo(t)
	before := openHandles.Load()
	func() {
		w, err := Open(ws.Path())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Info(context.Background()); err != nil {
			t.Fatal(err)
		}
	}()
	if openHandles.Load() != before+1 {
		t.Fatalf("handles %d, want %d", openHandles.Load(), before+1)
	}
	deadline := time.Now().Add(10 * time.Second)
	for openHandles.Load() != before {
		if time.Now().After(deadline) {
			t.Fatal("the forgotten workspace's handle was never closed")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
