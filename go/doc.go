// Package jvs drives jvs, workspace versioning for AI agents, ML teams and game studios, in
// process through libjvs (the frozen C ABI of include/jvs.h, libjvs.so.1).
//
// A workspace is a real directory. jvs snapshots all of it, restores it in place, forks parallel
// copies, diffs and verifies it; on JuiceFS and reflink filesystems (XFS, btrfs) copy-on-write.
//
//	ws, err := jvs.Open("myrepo/main")
//	if err != nil { ... }
//	defer ws.Close()
//	snap, err := ws.Snapshot(ctx, "before agent run", &jvs.SnapshotOptions{Tags: []string{"base"}})
//	...
//	_, err = ws.Restore(ctx, snap.ID, nil)
//
// # Errors
//
// Every failure libjvs reports is an [*Error] carrying a stable Code ("E_REF_NOT_FOUND"), a
// message, a hint and JSON details. Families match through errors.Is:
//
//	var jerr *jvs.Error
//	switch {
//	case errors.Is(err, jvs.ErrNotFound): // E_NOT_REPO, E_REF_NOT_FOUND, ...
//	case errors.Is(err, jvs.ErrLocked):   // another writer held the worktree past 30 s
//	case errors.As(err, &jerr):           // jerr.Code, jerr.Hint, jerr.Details
//	}
//
// # Cancellation
//
// Every method takes a context. Cancelling it (or its deadline passing) interrupts the running
// call at its next check, between files, through jvs_repo_interrupt; the call then returns an
// *Error with Code "E_CANCELLED" that matches both [ErrCancelled] and the context's error
// (errors.Is(err, context.Canceled)). A cancelled snapshot or fork publishes nothing; a cancelled
// restore leaves each file old or new, never torn, and does not move the worktree's head. A call
// that finished before it noticed the cancellation returns its result.
//
// jvs_repo_interrupt cancels every call running on a C handle, so a call whose context can be
// cancelled runs on a C handle of its own (one more jvs_repo_open: tens of microseconds, no file
// kept open), and cancelling it never disturbs other calls on the same Workspace. Calls with a
// context that can never be cancelled (context.Background()) share the Workspace's handle.
//
// A Progress function runs synchronously on the calling goroutine, during the call only; a
// non-nil error from it cancels the operation and is returned as is. It must not call into
// this package (libjvs forbids re-entry from a callback); a panic in it is re-raised after the
// call has unwound. Events come at most about ten times a second, plus one per phase.
//
// # Concurrency and lifetime
//
// A Workspace is safe for concurrent use. Writers to one worktree wait for each other (up to
// 30 s, then [ErrLocked]); different worktrees, in this process or others, proceed in
// parallel. Close waits for running calls and is idempotent; a Workspace dropped without Close
// has its handle closed by the garbage collector.
package jvs
