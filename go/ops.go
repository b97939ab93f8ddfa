package jvs

import (
	"context"
	"encoding/json"
	"fmt"
)

// Snapshot takes a snapshot of the workspace's worktree (all of it, or opts.Paths) with the
// given note and publishes it on top of the worktree's head. A detached worktree is refused
// with [ErrDetached]. Cancelling ctx (or a Progress error) stops it and publishes nothing.
func (w *Workspace) Snapshot(ctx context.Context, note string, opts *SnapshotOptions) (*Snapshot, error) {
	params := map[string]any{}
	if note != "" {
		params["note"] = note
	}
	var progress func(Event) error
	if opts != nil {
		if opts.Tags != nil {
			params["tags"] = opts.Tags
		}
		if opts.Paths != nil {
			params["paths"] = opts.Paths
		}
		progress = opts.Progress
	}
	res, err := run[struct {
		Snapshot Snapshot `json:"snapshot"`
	}](ctx, w, "snapshot", params, progress)
	if err != nil {
		return nil, err
	}
	return &res.Snapshot, nil
}

// Restore makes the worktree's files equal to the snapshot ref names, in place: only files that
// differ are rewritten (each atomically), files absent from the snapshot are deleted, and
// unsnapshotted changes are lost (use DryRun to see them first). ref is a snapshot id, a tag, a
// unique prefix of an id, tag or note, "HEAD" (the worktree's latest snapshot) or REF~N.
// Restoring an older snapshot detaches the worktree until "HEAD" is restored.
func (w *Workspace) Restore(ctx context.Context, ref string, opts *RestoreOptions) (*RestoreResult, error) {
	params := map[string]any{"ref": ref}
	var progress func(Event) error
	if opts != nil {
		if opts.DryRun {
			params["dry_run"] = true
		}
		progress = opts.Progress
	}
	return run[RestoreResult](ctx, w, "restore", params, progress)
}

// History lists snapshots, newest first: the worktree's lineage (from its head back through
// parents), or with All every snapshot of the repository.
func (w *Workspace) History(ctx context.Context, opts *HistoryOptions) ([]Snapshot, error) {
	res, err := run[struct {
		Snapshots []Snapshot `json:"snapshots"`
	}](ctx, w, "history", opts, nil) // nil opts marshals to null: all defaults
	if err != nil {
		return nil, err
	}
	return res.Snapshots, nil
}

// Fork creates a new worktree holding the snapshot from names ("" means the workspace's head)
// and continuing its line, and returns a Workspace bound to it (close it too). name "" lets the
// library pick "fork-<8 hex of the snapshot id>". Its files live in Root()/worktrees/NAME.
func (w *Workspace) Fork(ctx context.Context, name, from string) (*Workspace, error) {
	params := map[string]any{}
	if name != "" {
		params["name"] = name
	}
	if from != "" {
		params["from"] = from
	}
	res, err := run[struct {
		Worktree Worktree `json:"worktree"`
	}](ctx, w, "worktree_fork", params, nil)
	if err != nil {
		return nil, err
	}
	return openWorkspace("repo_open", res.Worktree.Path, nil)
}

// Worktrees lists every worktree of the repository, "main" included, sorted by name.
func (w *Workspace) Worktrees(ctx context.Context) ([]Worktree, error) {
	res, err := run[struct {
		Worktrees []Worktree `json:"worktrees"`
	}](ctx, w, "worktree_list", nil, nil)
	if err != nil {
		return nil, err
	}
	return res.Worktrees, nil
}

// Diff compares two snapshots, or a snapshot and the live worktree (nil opts: the worktree's
// unsaved changes against its head). It reads nothing it can vouch for from caches.
func (w *Workspace) Diff(ctx context.Context, opts *DiffOptions) (*DiffResult, error) {
	return run[DiffResult](ctx, w, "diff", opts, nil)
}

// Verify recomputes checksums, payload hashes and the audit chain. Damage found is reported in
// the report (OK false), not as an error; only a bad request (an unknown Ref) fails.
func (w *Workspace) Verify(ctx context.Context, opts *VerifyOptions) (*VerifyReport, error) {
	params := map[string]any{}
	var progress func(Event) error
	if opts != nil {
		if opts.Ref != "" {
			params["ref"] = opts.Ref
		}
		if opts.ChecksumOnly {
			params["payload"] = false
		}
		progress = opts.Progress
	}
	return run[VerifyReport](ctx, w, "verify", params, progress)
}

// Info describes the repository: its id, root, snapshot and worktree counts, and the engine
// ("copy", "reflink-copy" or "juicefs-clone") its next operations use.
func (w *Workspace) Info(ctx context.Context) (*Info, error) {
	return run[Info](ctx, w, "info", nil, nil)
}

// run calls method and decodes its result document into a new T.
func run[T any](ctx context.Context, w *Workspace, method string, params any, progress func(Event) error) (*T, error) {
	doc, err := w.call(ctx, method, params, progress)
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(doc, v); err != nil {
		return nil, fmt.Errorf("jvs: %s: unreadable result document: %w", method, err)
	}
	return v, nil
}
