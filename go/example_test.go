package jvs_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	jvs "github.com/jvs-project/jvs/go"
)

// exampleRepo initialises a repository in a temporary directory for the examples below.
func exampleRepo() (*jvs.Workspace, func()) {
	dir, err := os.MkdirTemp("", "jvs-example-")
	if err != nil {
		log.Fatal(err)
	}
	ws, err := jvs.Init(filepath.Join(dir, "repo"))
	if err != nil {
		log.Fatal(err)
	}
	return ws, func() { ws.Close(); os.RemoveAll(dir) }
}

// A workspace is a real directory: snapshot it, change it, look at the history, restore it.
func Example() {
	dir, err := os.MkdirTemp("", "jvs-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	ws, err := jvs.Init(filepath.Join(dir, "repo")) // the worktree "main" is repo/main
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()

	prompt := filepath.Join(ws.Path(), "prompt.txt")
	os.WriteFile(prompt, []byte("v1"), 0o644)
	if _, err := ws.Snapshot(ctx, "before agent run", &jvs.SnapshotOptions{Tags: []string{"base"}}); err != nil {
		log.Fatal(err)
	}
	os.WriteFile(prompt, []byte("v2"), 0o644)
	if _, err := ws.Snapshot(ctx, "after agent run", nil); err != nil {
		log.Fatal(err)
	}

	history, err := ws.History(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range history {
		fmt.Println(s.Note, s.Tags)
	}

	if _, err := ws.Restore(ctx, "base", nil); err != nil {
		log.Fatal(err)
	}
	content, _ := os.ReadFile(prompt)
	fmt.Println("prompt.txt:", string(content))
	// Output:
	// after agent run []
	// before agent run [base]
	// prompt.txt: v1
}

// Progress events arrive on the calling goroutine; returning an error would cancel the snapshot.
func ExampleSnapshotOptions_progress() {
	ws, cleanup := exampleRepo() // jvs.Init in a temporary directory
	defer cleanup()
	os.WriteFile(filepath.Join(ws.Path(), "data.csv"), []byte("a,b\n1,2\n"), 0o644)

	seen := map[string]bool{}
	_, err := ws.Snapshot(context.Background(), "nightly", &jvs.SnapshotOptions{
		Progress: func(ev jvs.Event) error {
			if ev.Kind == "progress" && !seen[ev.Phase] {
				seen[ev.Phase] = true
				fmt.Println("phase", ev.Phase)
			}
			return nil
		},
	})
	fmt.Println("error:", err)
	// Output:
	// phase scan
	// phase copy
	// phase sync
	// error: <nil>
}

// Each agent works in a fork of its own, in parallel with the others.
func ExampleWorkspace_Fork() {
	ctx := context.Background()
	ws, cleanup := exampleRepo() // jvs.Init in a temporary directory
	defer cleanup()
	os.WriteFile(filepath.Join(ws.Path(), "task.md"), []byte("fix the bug"), 0o644)
	base, err := ws.Snapshot(ctx, "task", nil)
	if err != nil {
		log.Fatal(err)
	}

	agent, err := ws.Fork(ctx, "agent-1", base.ID)
	if err != nil {
		log.Fatal(err)
	}
	defer agent.Close()
	task, _ := os.ReadFile(filepath.Join(agent.Path(), "task.md"))
	fmt.Println(agent.Worktree(), filepath.Base(filepath.Dir(agent.Path())), string(task))

	worktrees, _ := ws.Worktrees(ctx)
	for _, wt := range worktrees {
		fmt.Println(wt.Name, wt.BaseSnapshotID == base.ID)
	}
	// Output:
	// agent-1 worktrees fix the bug
	// agent-1 true
	// main false
}

// Errors carry a stable code and a hint; families match through errors.Is.
func ExampleError() {
	dir, _ := os.MkdirTemp("", "jvs-example-") // an empty directory: no repository
	defer os.RemoveAll(dir)
	_, err := jvs.Open(dir)

	var jerr *jvs.Error
	if errors.As(err, &jerr) {
		fmt.Println(jerr.Code, errors.Is(err, jvs.ErrNotFound), jerr.Hint != "")
	}
	// Output:
	// E_NOT_REPO true true
}

// A cancelled context stops the call; the error matches both ErrCancelled and the context's
// error.
func ExampleWorkspace_Snapshot_cancel() {
	ws, cleanup := exampleRepo() // jvs.Init in a temporary directory
	defer cleanup()

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // e.g. the agent run was aborted
	_, err := ws.Snapshot(ctx, "too late", nil)
	fmt.Println(errors.Is(err, context.Canceled), errors.Is(err, jvs.ErrCancelled))
	history, _ := ws.History(context.Background(), nil)
	fmt.Println(len(history), "snapshots")
	// Output:
	// true true
	// 0 snapshots
}
