package jvs

import (
	"encoding/json"
	"time"
)

// Snapshot is a published snapshot: the descriptor libjvs stores for it
// (docs/API_REFERENCE.md §5.1). Snapshots are immutable.
type Snapshot struct {
	// ID is the snapshot id: Unix milliseconds, '-', 8 hex digits ("1764045018215-1a2b3c4d").
	ID string `json:"snapshot_id"`
	// ParentID is the snapshot this one was taken on top of ("" for a root snapshot).
	ParentID string `json:"parent_id,omitempty"`
	// Worktree is the name of the worktree it was taken from (kept after a rename).
	Worktree string `json:"worktree_name"`
	// Note is the free-text note ("" if none).
	Note string `json:"note,omitempty"`
	// Engine is the engine that stored it: "copy", "reflink-copy" or "juicefs-clone".
	Engine string `json:"engine"`
	// Tags are the snapshot's tags (nil if none).
	Tags []string `json:"tags,omitempty"`
	// CreatedAt is the publish time (UTC).
	CreatedAt time.Time `json:"created_at"`
	// PayloadRootHash is the SHA-256 over the stored tree (64 lowercase hex digits).
	PayloadRootHash string `json:"payload_root_hash"`
	// PartialPaths lists the captured paths of a partial snapshot (nil for a whole one).
	PartialPaths []string `json:"partial_paths,omitempty"`
}

// Event is a progress or warning event delivered to a Progress function during a long call
// (docs/API_REFERENCE.md §6). Kinds other than "progress" and "warning" may appear: ignore them.
type Event struct {
	// Kind is "progress" or "warning".
	Kind string `json:"kind"`
	// Op is the operation reporting, e.g. "snapshot".
	Op string `json:"op"`
	// Phase is the current phase of a progress event: snapshot "scan", "copy", "sync"; restore
	// and fork "scan", "compare", "write"; verify "verify".
	Phase string `json:"phase,omitempty"`
	// Done and Total count the items of the phase (Total may be 0 when unknown).
	Done  int64 `json:"done,omitempty"`
	Total int64 `json:"total,omitempty"`
	// BytesDone and BytesTotal count bytes, for phases that move data.
	BytesDone  int64 `json:"bytes_done,omitempty"`
	BytesTotal int64 `json:"bytes_total,omitempty"`
	// Message is the text of a warning event.
	Message string `json:"message,omitempty"`
	// Raw is the whole event document.
	Raw json.RawMessage `json:"-"`
}

// SnapshotOptions are the options of [Workspace.Snapshot]; nil means all defaults.
type SnapshotOptions struct {
	// Tags to attach (letters, digits, '.', '_' and '-').
	Tags []string
	// Paths, relative to the worktree root, for a partial snapshot (nil: the whole worktree).
	Paths []string
	// Progress, if set, receives progress events. A non-nil error cancels the snapshot (nothing
	// is published) and is what Snapshot returns.
	Progress func(Event) error
}

// RestoreOptions are the options of [Workspace.Restore]; nil means all defaults.
type RestoreOptions struct {
	// DryRun computes and returns the plan without touching anything.
	DryRun bool
	// Progress, if set, receives progress events; a non-nil error cancels the restore and is
	// what Restore returns (files already rewritten stay whole; the head does not move).
	Progress func(Event) error
}

// RestoreResult describes what a restore did (or, with DryRun, would do).
type RestoreResult struct {
	// SnapshotID is the restored snapshot.
	SnapshotID string `json:"snapshot_id"`
	// Worktree is the worktree restored.
	Worktree string `json:"worktree"`
	// Detached reports whether the worktree is detached afterwards (its head is not its latest).
	Detached bool `json:"detached"`
	// DryRun echoes the option.
	DryRun bool `json:"dry_run"`
	// Partial reports a partial snapshot (only its paths were considered).
	Partial bool `json:"partial"`
	// MatchedBy says how the reference resolved: "id", "tag", "latest", "id_prefix", ...
	MatchedBy string `json:"matched_by"`
	// Stats counts what was (or would be) done.
	Stats RestoreStats `json:"stats"`
	// Changes has one entry per path that differed.
	Changes []Change `json:"changes"`
	// Engine is the engine that wrote the files ("" with DryRun).
	Engine string `json:"engine,omitempty"`
	// Compression is set only for a snapshot the Go tool compressed: how it was read.
	Compression *CompressionRead `json:"compression,omitempty"`
}

// CompressionRead says how a snapshot the Go tool compressed (snapshot --compress) was read: inflated,
// with lost modes and mtimes recovered where possible, and checked against its payload_root_hash.
type CompressionRead struct {
	Type          string `json:"type"`              // the descriptor's compression type, "gzip"
	Level         int    `json:"level,omitempty"`   // the descriptor's compression level
	Verdict       string `json:"verdict"`           // "verified", "unverified", "damaged" or "not_checked"
	InflatedFiles int64  `json:"inflated_files"`    // files the Go tool compressed
	ModesInferred int64  `json:"modes_inferred"`    // of those, modes found by the hash check
	MtimesLost    int64  `json:"mtimes_lost"`       // mtimes no uncompressed snapshot gave back
	Problem       string `json:"problem,omitempty"` // why, when not verified
}

// RestoreStats counts the files a restore or fork materialised.
type RestoreStats struct {
	Created      int64 `json:"created"`       // files created
	Updated      int64 `json:"updated"`       // files rewritten
	Deleted      int64 `json:"deleted"`       // entries deleted
	Metadata     int64 `json:"metadata"`      // mode/mtime fixed without rewriting
	Unchanged    int64 `json:"unchanged"`     // entries already equal
	BytesWritten int64 `json:"bytes_written"` // bytes copied (cloned files write none)
	FilesCloned  int64 `json:"files_cloned"`  // files cloned copy-on-write
}

// Change is one path a restore changed: Action is "create", "update", "delete", "metadata",
// "mkdir" or "rmdir".
type Change struct {
	Path   string `json:"path"`   // relative to the worktree root
	Action string `json:"action"` // what was done to it
}

// HistoryOptions are the options of [Workspace.History]; nil means all defaults (the worktree's
// whole lineage, newest first). The JSON tags are the operation's option keys.
type HistoryOptions struct {
	// Limit caps the number of snapshots returned (0: all).
	Limit int `json:"limit,omitempty"`
	// Tag keeps only snapshots carrying exactly this tag.
	Tag string `json:"tag,omitempty"`
	// Grep keeps only snapshots whose note contains this (case-sensitive).
	Grep string `json:"grep,omitempty"`
	// All lists every snapshot of the repository instead of the worktree's lineage.
	All bool `json:"all,omitempty"`
}

// Worktree is one worktree of the repository (docs/API_REFERENCE.md §5.2).
type Worktree struct {
	Name             string    `json:"name"`                         // unique name; "main" always exists
	Path             string    `json:"path"`                         // absolute payload path
	BaseSnapshotID   string    `json:"base_snapshot_id,omitempty"`   // where it was created or forked from
	HeadSnapshotID   string    `json:"head_snapshot_id,omitempty"`   // what its files correspond to
	LatestSnapshotID string    `json:"latest_snapshot_id,omitempty"` // the tip of its line
	CreatedAt        time.Time `json:"created_at"`                   // creation time (UTC)
	Detached         bool      `json:"detached"`                     // head != latest: snapshots are refused
}

// DiffOptions are the options of [Workspace.Diff]; nil means the live worktree against its head.
// The JSON tags are the operation's option keys.
type DiffOptions struct {
	// From is the older side (a reference; "" means HEAD).
	From string `json:"from,omitempty"`
	// To is the newer side (a reference; "" means the live worktree).
	To string `json:"to,omitempty"`
	// Stat returns only the totals, no lists.
	Stat bool `json:"stat,omitempty"`
}

// DiffResult lists what changed between two snapshots or a snapshot and the live worktree.
type DiffResult struct {
	FromSnapshotID string      `json:"from_snapshot_id"`         // the older side
	ToSnapshotID   string      `json:"to_snapshot_id,omitempty"` // the newer side, when it is a snapshot
	ToWorktree     string      `json:"to_worktree,omitempty"`    // the worktree, when the newer side is live
	Added          []DiffEntry `json:"added"`                    // sorted by path; nil with Stat
	Removed        []DiffEntry `json:"removed"`                  // sorted by path; nil with Stat
	Modified       []DiffEntry `json:"modified"`                 // sorted by path; nil with Stat
	Totals         DiffTotals  `json:"totals"`                   // the counts, always
}

// DiffTotals counts the entries of a diff.
type DiffTotals struct {
	Added    int64 `json:"added"`    // entries only in the newer side
	Removed  int64 `json:"removed"`  // entries only in the older side
	Modified int64 `json:"modified"` // entries in both that differ
}

// DiffEntry is one changed path. Change (modified entries only) is "content", "mode", "target"
// or "type"; the Old*/New* fields are set where they apply.
type DiffEntry struct {
	Path      string `json:"path"`                 // relative to the worktree root, '/'-separated
	Type      string `json:"type"`                 // "file", "dir" or "symlink" (the new type if modified)
	Change    string `json:"change,omitempty"`     // modified entries: "content", "mode", "target" or "type"
	OldType   string `json:"old_type,omitempty"`   // with Change "type"
	OldMode   string `json:"old_mode,omitempty"`   // permission bits in octal, "0644"
	NewMode   string `json:"new_mode,omitempty"`   // permission bits in octal
	OldSize   int64  `json:"old_size,omitempty"`   // files: size in bytes
	NewSize   int64  `json:"new_size,omitempty"`   // files: size in bytes
	OldHash   string `json:"old_hash,omitempty"`   // files: SHA-256, when known without reading
	NewHash   string `json:"new_hash,omitempty"`   // files: SHA-256, when known or read to decide
	OldTarget string `json:"old_target,omitempty"` // symlinks: target
	NewTarget string `json:"new_target,omitempty"` // symlinks: target
}

// VerifyOptions are the options of [Workspace.Verify]; nil verifies every snapshot, payloads
// included.
type VerifyOptions struct {
	// Ref verifies this one snapshot ("": all).
	Ref string
	// ChecksumOnly skips recomputing payload hashes (fast: descriptors and markers only).
	ChecksumOnly bool
	// Progress, if set, receives progress events; a non-nil error cancels and is returned.
	Progress func(Event) error
}

// VerifyReport is the result of [Workspace.Verify]. Damage is reported here (OK false), not as
// an error.
type VerifyReport struct {
	OK             bool           `json:"ok"`              // no result has a Code and the audit chain is intact
	PayloadChecked bool           `json:"payload_checked"` // payload hashes were recomputed
	Results        []VerifyResult `json:"results"`         // one per snapshot checked
	Audit          AuditCheck     `json:"audit"`           // the audit log's hash chain
}

// VerifyResult is the verdict on one snapshot.
type VerifyResult struct {
	SnapshotID       string `json:"snapshot_id"`        // the snapshot (or stray directory) checked
	ChecksumValid    bool   `json:"checksum_valid"`     // the descriptor checksum recomputes
	PayloadHashValid bool   `json:"payload_hash_valid"` // the payload hash recomputes (false when not checked)
	TamperDetected   bool   `json:"tamper_detected"`    // stored data differs from what was published
	Code             string `json:"code,omitempty"`     // set iff something is wrong, e.g. "E_PAYLOAD_HASH_MISMATCH"
	Error            string `json:"error,omitempty"`    // why, for humans
	// Compression is set only for a snapshot the Go tool compressed: its own verdict.
	Compression *CompressionRead `json:"compression,omitempty"`
}

// AuditCheck is the verdict on the audit log.
type AuditCheck struct {
	OK      bool   `json:"ok"`              // every record's hash and link recompute
	Records int64  `json:"records"`         // records verified before the first break
	Code    string `json:"code,omitempty"`  // "E_AUDIT_CHAIN_BROKEN" when broken
	Line    int64  `json:"line,omitempty"`  // 1-based line of the break
	Error   string `json:"error,omitempty"` // why, for humans
}

// Info describes the repository and the engine its next operations use.
type Info struct {
	FormatVersion  int    `json:"format_version"`          // on-disk format (1)
	RepoID         string `json:"repo_id"`                 // the repository's UUID
	RepoRoot       string `json:"repo_root"`               // absolute repository root
	Engine         string `json:"engine"`                  // "copy", "reflink-copy" or "juicefs-clone"
	EngineSource   string `json:"engine_source"`           // "env", "config", "detected" or "default"
	EngineDetail   string `json:"engine_detail,omitempty"` // why detection settled for less
	TotalSnapshots int64  `json:"total_snapshots"`         // published snapshots, all worktrees
	TotalWorktrees int64  `json:"total_worktrees"`         // worktrees, "main" included
	Worktree       string `json:"worktree,omitempty"`      // the workspace's worktree
	Version        string `json:"version"`                 // the library's version
}
