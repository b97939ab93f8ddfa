package jvs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Each of 32 goroutines forks its own worktree from one snapshot, changes it and snapshots it.
func TestThirtyTwoGoroutinesForkAndSnapshot(t *testing.T) {
	ctx := context.Background()
	ws := newRepo(t)
	writeFile(t, ws.Path(), "shared/config.yaml", "lr: 0.1")
	base := mustSnapshot(t, ws, "base", nil)

	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() error {
				name := fmt.Sprintf("agent-%02d", i)
				fork, err := ws.Fork(ctx, name, base.ID)
				if err != nil {
					return fmt.Errorf("%s: Fork: %w", name, err)
				}
				defer fork.Close()
				if err := os.WriteFile(filepath.Join(fork.Path(), "result.txt"), []byte(name), 0o644); err != nil {
					return err
				}
				s, err := fork.Snapshot(ctx, "result of "+name, &SnapshotOptions{Tags: []string{name}})
				if err != nil {
					return fmt.Errorf("%s: Snapshot: %w", name, err)
				}
				hist, err := fork.History(ctx, nil)
				if err != nil {
					return err
				}
				if len(hist) != 2 || hist[0].ID != s.ID || hist[1].ID != base.ID || s.Worktree != name {
					return fmt.Errorf("%s: lineage %+v", name, hist)
				}
				return nil
			}()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	wts, err := ws.Worktrees(ctx)
	if err != nil || len(wts) != n+1 {
		t.Fatalf("Worktrees: %v, %d", err, len(wts))
	}
	all, err := ws.History(ctx, &HistoryOptions{All: true})
	if err != nil || len(all) != n+1 {
		t.Fatalf("History all: %v, %d", err, len(all))
	}
	for _, wt := range wts[:n] {
		if got := readFile(t, wt.Path, "result.txt"); got != wt.Name {
			t.Errorf("%s holds %q", wt.Name, got)
		}
	}
}

// Many goroutines share one Workspace: snapshots of its worktree serialise on the lock, readers
// run alongside, with both cancellable and background contexts.
func TestConcurrentCallsOnOneWorkspace(t *testing.T) {
	ws := newRepo(t)
	writeFile(t, ws.Path(), "f", "0")
	const writers, readers = 6, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers+readers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			if i%2 == 1 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, time.Minute)
				defer cancel()
			}
			_, err := ws.Snapshot(ctx, fmt.Sprintf("writer %d", i), nil)
			errs <- err
		}()
	}
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if i%2 == 0 {
				ctx = context.Background()
			}
			for range 5 {
				if _, err := ws.History(ctx, &HistoryOptions{All: true}); err != nil {
					errs <- err
					return
				}
				if _, err := ws.Info(ctx); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	hist, err := ws.History(context.Background(), nil)
	if err != nil || len(hist) != writers {
		t.Fatalf("lineage: %v, %d snapshots", err, len(hist))
	}
	for i := 1; i < len(hist); i++ {
		if hist[i-1].ParentID != hist[i].ID {
			t.Fatalf("lineage broken at %d: %+v", i, hist)
		}
	}
}

// checkCancelled asserts the error of a call cancelled through its context.
func checkCancelled(t *testing.T, err, ctxErr error) {
	t.Helper()
	jerr := asError(t, err, "E_CANCELLED")
	if !errors.Is(err, ErrCancelled) || !errors.Is(err, ctxErr) || jerr.Status != -9 || jerr.Op != "snapshot" {
		t.Fatalf("cancelled error %#v does not match %v", err, ctxErr)
	}
}

func TestCancelMidSnapshot(t *testing.T) {
	ws := newRepo(t)
	manyFiles(t, ws.Path(), 500)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var copied int64
	_, err := ws.Snapshot(ctx, "big", &SnapshotOptions{Progress: func(ev Event) error {
		if ev.Phase == "copy" {
			copied = ev.Done
			cancel() // from inside the call: the next check between files stops it
		}
		return nil
	}})
	checkCancelled(t, err, context.Canceled)
	if copied >= 500 {
		t.Fatalf("the snapshot copied everything (%d) before noticing", copied)
	}
	if hist, err := ws.History(context.Background(), &HistoryOptions{All: true}); err != nil || len(hist) != 0 {
		t.Fatalf("a cancelled snapshot published something: %v %+v", err, hist)
	}
	if doc, err := ws.Call(context.Background(), "doctor", nil); err != nil || !strings.Contains(string(doc), `"healthy":true`) {
		t.Fatalf("doctor after the cancelled snapshot: %v %s", err, doc)
	}
}

// Cancellation from another goroutine while libjvs waits for a worktree lock another process
// holds: no progress event comes, only jvs_repo_interrupt can stop the wait.
func TestCancelWhileWaitingForTheLock(t *testing.T) {
	ws := newRepo(t)
	lock := filepath.Join(ws.Root(), ".jvs", "locks", "wt-main.lock")
	if err := os.MkdirAll(filepath.Dir(lock), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(lock, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = ws.Snapshot(ctx, "waits", nil) // lock_timeout_ms is 30 s by default
	checkCancelled(t, err, context.DeadlineExceeded)
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("cancellation took %v", d)
	}

	// Without a deadline the same wait ends with E_LOCKED (here after 0 ms).
	_, err = ws.Call(context.Background(), "snapshot", map[string]any{"note": "x", "lock_timeout_ms": 0})
	jerr := asError(t, err, "E_LOCKED")
	var details struct {
		Lock string `json:"lock"`
	}
	if !errors.Is(err, ErrLocked) || jerr.DetailsInto(&details) != nil || details.Lock == "" {
		t.Fatalf("E_LOCKED: %v %s", err, jerr.Details)
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	mustSnapshot(t, ws, "free again", nil)
}

// Cancelling one call never cancels another running on the same Workspace (jvs_repo_interrupt
// would cancel every call on a shared C handle).
func TestCancellingOneCallSparesTheOthers(t *testing.T) {
	ws := newRepo(t)
	writeFile(t, ws.Path(), "small", "x")
	base := mustSnapshot(t, ws, "base", nil)
	manyFiles(t, ws.Path(), 500)

	var entered sync.WaitGroup // B and C are inside their calls
	entered.Add(2)
	aDone := make(chan struct{})
	var aErr error
	go func() { // A: a snapshot cancelled through its context mid-copy, while B and C run
		defer close(aDone)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var once sync.Once
		_, aErr = ws.Snapshot(ctx, "cancelled", &SnapshotOptions{Progress: func(ev Event) error {
			if ev.Phase == "copy" {
				once.Do(func() { entered.Wait(); cancel() })
			}
			return nil
		}})
	}()

	// B and C: verifies of the base snapshot running while A is cancelled, one with a
	// cancellable context (its own handle), one with the background context (the shared one).
	var wg sync.WaitGroup
	for _, cancellable := range []bool{true, false} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			if cancellable {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
			}
			var once sync.Once
			rep, err := ws.Verify(ctx, &VerifyOptions{Ref: base.ID, Progress: func(Event) error {
				once.Do(func() { entered.Done(); <-aDone }) // stay inside the call until A was cancelled
				return nil
			}})
			if err != nil || !rep.OK {
				t.Errorf("verify (cancellable %v) while another call was cancelled: %v %+v", cancellable, err, rep)
			}
		}()
	}
	wg.Wait()
	<-aDone
	checkCancelled(t, aErr, context.Canceled)
}

func TestProgressErrorCancelsAndIsReturned(t *testing.T) {
	ws := newRepo(t)
	manyFiles(t, ws.Path(), 300)
	errStop := errors.New("disk quota of the agent reached")
	_, err := ws.Snapshot(context.Background(), "x", &SnapshotOptions{Progress: func(ev Event) error {
		if ev.Phase == "copy" {
			return errStop
		}
		return nil
	}})
	if err != errStop {
		t.Fatalf("got %v, want the progress function's error", err)
	}
	if hist, _ := ws.History(context.Background(), &HistoryOptions{All: true}); len(hist) != 0 {
		t.Fatal("published after the progress function failed")
	}
}

func TestProgressPanicIsReraised(t *testing.T) {
	ws := newRepo(t)
	writeFile(t, ws.Path(), "f", "x")
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v", r)
			}
		}()
		ws.Snapshot(context.Background(), "x", &SnapshotOptions{Progress: func(Event) error { panic("boom") }})
		t.Fatal("no panic")
	}()
	if hist, _ := ws.History(context.Background(), nil); len(hist) != 0 {
		t.Fatal("published after the progress function panicked")
	}
	mustSnapshot(t, ws, "still works", nil)
}

func TestContextDoneBeforeTheCall(t *testing.T) {
	ws := newRepo(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ws.Snapshot(ctx, "never", nil)
	checkCancelled(t, err, context.Canceled)
	if hist, _ := ws.History(context.Background(), nil); len(hist) != 0 {
		t.Fatal("published with a cancelled context")
	}
}
