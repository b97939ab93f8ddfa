// Typed views of libjvs result documents (docs/API_REFERENCE.md §4-§6). Each keeps its JSON
// (ToJson()), so fields this binding does not surface yet are still reachable.
using System;
using System.Collections.Generic;
using System.Linq;
using Newtonsoft.Json.Linq;

namespace Jvs
{
    /// <summary>Base of the typed results: the document (or object) they were read from.</summary>
    public abstract class JvsDocument
    {
        internal readonly JObject Raw;

        internal JvsDocument(JObject raw) { Raw = raw ?? new JObject(); }

        /// <summary>The JSON this was read from, compact.</summary>
        public string ToJson() { return Json.Write(Raw); }
    }

    /// <summary>A published snapshot: its descriptor (§5.1), byte-compatible with the Go tool's.</summary>
    public sealed class Snapshot : JvsDocument
    {
        internal Snapshot(JObject descriptor) : base(descriptor) { }

        /// <summary>"&lt;unix ms&gt;-&lt;8 hex&gt;", e.g. "1764650418215-3f2a9c01".</summary>
        public string Id { get { return Json.Str(Raw, "snapshot_id"); } }
        /// <summary>The note ("" when none).</summary>
        public string Note { get { return Json.Str(Raw, "note") ?? ""; } }
        public IReadOnlyList<string> Tags { get { return Json.Strings(Raw, "tags"); } }
        /// <summary>When it was published (UTC).</summary>
        public DateTimeOffset CreatedAt { get { return Json.Time(Raw, "created_at"); } }
        /// <summary>The worktree's head when it was taken; null for a first snapshot.</summary>
        public string ParentId { get { return Json.Str(Raw, "parent_id"); } }
        /// <summary>The worktree it was taken from (kept after a rename).</summary>
        public string Worktree { get { return Json.Str(Raw, "worktree_name"); } }
        /// <summary>The engine that stored it: "copy", "reflink-copy" or "juicefs-clone".</summary>
        public string Engine { get { return Json.Str(Raw, "engine"); } }
        public string PayloadRootHash { get { return Json.Str(Raw, "payload_root_hash"); } }
        /// <summary>The paths a partial snapshot holds (empty for a whole-worktree snapshot).</summary>
        public IReadOnlyList<string> PartialPaths { get { return Json.Strings(Raw, "partial_paths"); } }

        public override string ToString() { return Id + (Note.Length > 0 ? " " + Note : ""); }

        public override bool Equals(object obj)
        {
            var o = obj as Snapshot;
            return o != null && o.Id == Id;
        }

        public override int GetHashCode() { return Id == null ? 0 : Id.GetHashCode(); }
    }

    /// <summary>A worktree (§5.2): a directory of files with its own line of snapshots.</summary>
    public sealed class Worktree : JvsDocument
    {
        internal Worktree(JObject raw) : base(raw) { }

        public string Name { get { return Json.Str(Raw, "name"); } }
        /// <summary>Absolute path of its files.</summary>
        public string Path { get { return Json.Str(Raw, "path"); } }
        public string BaseSnapshotId { get { return Json.Str(Raw, "base_snapshot_id"); } }
        /// <summary>The snapshot its files correspond to (null before the first snapshot).</summary>
        public string HeadSnapshotId { get { return Json.Str(Raw, "head_snapshot_id"); } }
        /// <summary>The tip of its line.</summary>
        public string LatestSnapshotId { get { return Json.Str(Raw, "latest_snapshot_id"); } }
        public DateTimeOffset CreatedAt { get { return Json.Time(Raw, "created_at"); } }
        /// <summary>Head is not latest: snapshots are refused until Restore("HEAD") or a fork.</summary>
        public bool Detached { get { return Json.Bool(Raw, "detached"); } }

        public override string ToString() { return Name; }
    }

    /// <summary>One path a restore changed (or, for a dry run, would change).</summary>
    public sealed class Change
    {
        internal Change(JObject o)
        {
            Path = Json.Str(o, "path");
            Action = Json.Str(o, "action");
        }

        /// <summary>Relative to the worktree root.</summary>
        public string Path { get; private set; }
        /// <summary>"create", "update", "delete", "metadata", "mkdir" or "rmdir".</summary>
        public string Action { get; private set; }

        public override string ToString() { return Action + " " + Path; }
    }

    /// <summary>The result of <see cref="Workspace.Restore(string, bool, IProgress{ProgressEvent}, System.Threading.CancellationToken)"/> (§4.4).</summary>
    public sealed class RestoreResult : JvsDocument
    {
        internal RestoreResult(JObject raw) : base(raw) { }

        public string SnapshotId { get { return Json.Str(Raw, "snapshot_id"); } }
        public string Worktree { get { return Json.Str(Raw, "worktree"); } }
        /// <summary>The worktree is detached afterwards (restored to a snapshot that is not its latest).</summary>
        public bool Detached { get { return Json.Bool(Raw, "detached"); } }
        public bool DryRun { get { return Json.Bool(Raw, "dry_run"); } }
        public bool Partial { get { return Json.Bool(Raw, "partial"); } }
        /// <summary>How the reference resolved: "id", "tag", "latest", "id_prefix", ...</summary>
        public string MatchedBy { get { return Json.Str(Raw, "matched_by"); } }
        public string Engine { get { return Json.Str(Raw, "engine"); } }
        public IReadOnlyList<Change> Changes
        {
            get { return Json.Objects(Raw, "changes").Select(o => new Change(o)).ToList().AsReadOnly(); }
        }
        public long Created { get { return Json.Long(Json.Obj(Raw, "stats"), "created"); } }
        public long Updated { get { return Json.Long(Json.Obj(Raw, "stats"), "updated"); } }
        public long Deleted { get { return Json.Long(Json.Obj(Raw, "stats"), "deleted"); } }
        public long Unchanged { get { return Json.Long(Json.Obj(Raw, "stats"), "unchanged"); } }
        public long BytesWritten { get { return Json.Long(Json.Obj(Raw, "stats"), "bytes_written"); } }
    }

    /// <summary>One snapshot's verification (§5.7).</summary>
    public sealed class SnapshotCheck
    {
        internal SnapshotCheck(JObject o)
        {
            SnapshotId = Json.Str(o, "snapshot_id");
            ChecksumValid = Json.Bool(o, "checksum_valid");
            PayloadHashValid = Json.Bool(o, "payload_hash_valid");
            TamperDetected = Json.Bool(o, "tamper_detected");
            Code = Json.Str(o, "code");
            Error = Json.Str(o, "error");
            CompressionVerdict = Json.Str(Json.Obj(o, "compression"), "verdict");
        }

        public string SnapshotId { get; private set; }
        public bool ChecksumValid { get; private set; }
        public bool PayloadHashValid { get; private set; }
        public bool TamperDetected { get; private set; }
        /// <summary>Null when the snapshot is intact, else E_CHECKSUM_MISMATCH, E_PAYLOAD_HASH_MISMATCH, ...</summary>
        public string Code { get; private set; }
        public string Error { get; private set; }
        /// <summary>Only for a snapshot the Go tool compressed (null otherwise): "verified", "unverified"
        /// (E_COMPRESSED_UNVERIFIED), "damaged" or "not_checked" (API reference §5.8).</summary>
        public string CompressionVerdict { get; private set; }
    }

    /// <summary>The result of <see cref="Workspace.Verify"/> (§4.7). Damage is reported here, not thrown.</summary>
    public sealed class VerifyResult : JvsDocument
    {
        internal VerifyResult(JObject raw) : base(raw) { }

        /// <summary>Every snapshot checked is intact and the audit chain recomputes.</summary>
        public bool Ok { get { return Json.Bool(Raw, "ok"); } }
        public bool PayloadChecked { get { return Json.Bool(Raw, "payload_checked"); } }
        public bool AuditOk { get { return Json.Bool(Json.Obj(Raw, "audit"), "ok"); } }
        public IReadOnlyList<SnapshotCheck> Results
        {
            get { return Json.Objects(Raw, "results").Select(o => new SnapshotCheck(o)).ToList().AsReadOnly(); }
        }
        /// <summary>The checks that found something wrong.</summary>
        public IReadOnlyList<SnapshotCheck> Failures
        {
            get { return Results.Where(r => r.Code != null).ToList().AsReadOnly(); }
        }
    }

    /// <summary>One changed path of a diff.</summary>
    public sealed class DiffEntry
    {
        internal DiffEntry(JObject o)
        {
            Path = Json.Str(o, "path");
            Type = Json.Str(o, "type");
            Change = Json.Str(o, "change");
        }

        public string Path { get; private set; }
        /// <summary>"file", "dir" or "symlink" (for a modified entry: its new type).</summary>
        public string Type { get; private set; }
        /// <summary>Modified entries only: "content", "mode", "target" or "type".</summary>
        public string Change { get; private set; }

        public override string ToString() { return Path; }
    }

    /// <summary>The result of <see cref="Workspace.Diff"/> (§4.14).</summary>
    public sealed class DiffResult : JvsDocument
    {
        internal DiffResult(JObject raw) : base(raw) { }

        public string FromSnapshotId { get { return Json.Str(Raw, "from_snapshot_id"); } }
        /// <summary>Null when the newer side is the live worktree (see <see cref="ToWorktree"/>).</summary>
        public string ToSnapshotId { get { return Json.Str(Raw, "to_snapshot_id"); } }
        public string ToWorktree { get { return Json.Str(Raw, "to_worktree"); } }
        public IReadOnlyList<DiffEntry> Added { get { return Entries("added"); } }
        public IReadOnlyList<DiffEntry> Removed { get { return Entries("removed"); } }
        public IReadOnlyList<DiffEntry> Modified { get { return Entries("modified"); } }
        public long TotalAdded { get { return Json.Long(Json.Obj(Raw, "totals"), "added"); } }
        public long TotalRemoved { get { return Json.Long(Json.Obj(Raw, "totals"), "removed"); } }
        public long TotalModified { get { return Json.Long(Json.Obj(Raw, "totals"), "modified"); } }
        /// <summary>Nothing changed.</summary>
        public bool IsEmpty { get { return TotalAdded + TotalRemoved + TotalModified == 0; } }

        private IReadOnlyList<DiffEntry> Entries(string key)
        {
            return Json.Objects(Raw, key).Select(o => new DiffEntry(o)).ToList().AsReadOnly();
        }
    }

    /// <summary>Repository information (§4.2).</summary>
    public sealed class RepositoryInfo : JvsDocument
    {
        internal RepositoryInfo(JObject raw) : base(raw) { }

        public string RepoId { get { return Json.Str(Raw, "repo_id"); } }
        public string RepoRoot { get { return Json.Str(Raw, "repo_root"); } }
        public long FormatVersion { get { return Json.Long(Raw, "format_version"); } }
        /// <summary>"copy", "reflink-copy" or "juicefs-clone".</summary>
        public string Engine { get { return Json.Str(Raw, "engine"); } }
        public string EngineSource { get { return Json.Str(Raw, "engine_source"); } }
        public long TotalSnapshots { get { return Json.Long(Raw, "total_snapshots"); } }
        public long TotalWorktrees { get { return Json.Long(Raw, "total_worktrees"); } }
        /// <summary>The library version, e.g. "1.0.0".</summary>
        public string Version { get { return Json.Str(Raw, "version"); } }
    }

    /// <summary>A progress event of a long operation (§6), delivered synchronously on the calling
    /// thread. Throwing from IProgress.Report cancels the operation and the exception is re-thrown.</summary>
    public sealed class ProgressEvent : JvsDocument
    {
        internal ProgressEvent(JObject raw) : base(raw) { }

        /// <summary>"progress" or "warning" (unknown kinds may appear: ignore them).</summary>
        public string Kind { get { return Json.Str(Raw, "kind"); } }
        /// <summary>"snapshot", "restore", "verify", "worktree_fork", ...</summary>
        public string Op { get { return Json.Str(Raw, "op"); } }
        /// <summary>snapshot: scan, copy, sync; restore/fork: scan, compare, write; verify: verify.</summary>
        public string Phase { get { return Json.Str(Raw, "phase"); } }
        public long Done { get { return Json.Long(Raw, "done"); } }
        /// <summary>0 when unknown.</summary>
        public long Total { get { return Json.Long(Raw, "total"); } }
        public long BytesDone { get { return Json.Long(Raw, "bytes_done"); } }
        public long BytesTotal { get { return Json.Long(Raw, "bytes_total"); } }
        /// <summary>The text of a warning event.</summary>
        public string Message { get { return Json.Str(Raw, "message"); } }

        public override string ToString() { return Op + " " + Phase + " " + Done + "/" + Total; }
    }
}
