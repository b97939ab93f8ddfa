// Workspace: one open libjvs handle bound to one worktree, with the typed operations.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Newtonsoft.Json.Linq;

namespace Jvs
{
    /// <summary>An open jvs repository, bound to one worktree: a directory (<see cref="Path"/>) whose
    /// files jvs snapshots and restores in place.</summary>
    /// <remarks>
    /// Every member may be called from many threads at once: writers to one worktree wait for each
    /// other (up to <see cref="LockTimeoutMs"/>, then <see cref="LockedException"/>), different
    /// worktrees proceed in parallel. Long operations take an <see cref="IProgress{ProgressEvent}"/>,
    /// called synchronously on the calling thread; throwing from it cancels the operation (nothing is
    /// published) and the exception is re-thrown. A <see cref="CancellationToken"/> cancels one call
    /// (jvs_repo_interrupt on a handle of its own: other calls are not touched) and makes it throw
    /// <see cref="OperationCanceledException"/>; <see cref="Interrupt"/> cancels every call running
    /// on this workspace. Dispose() closes the handle once the calls running on it have returned.
    /// </remarks>
    public sealed class Workspace : IDisposable
    {
        private readonly RepoHandle _handle;
        // Set by Dispose(). The SafeHandle alone would still accept calls until the ones in flight
        // have returned (it closes the native handle only then).
        private volatile bool _disposed;

        private Workspace(RepoHandle handle, JObject repoDoc)
        {
            _handle = handle;
            RepoRoot = Json.Str(repoDoc, "repo_root");
            RepoId = Json.Str(repoDoc, "repo_id");
            WorktreeName = Json.Str(repoDoc, "worktree") ?? "main";
            Native = new Native(this);
            Path = Json.Str(repoDoc, "worktree_path") ?? WorktreePath(WorktreeName);
        }

        /// <summary>Creates a repository at <paramref name="path"/> (created if missing) and opens its
        /// "main" worktree, whose files live in path/main (<see cref="Path"/>), or in path itself when
        /// path is an existing directory with files: it is then adopted in place.</summary>
        /// <param name="name">An informational repository name (validated: <see cref="InvalidNameException"/>).</param>
        /// <exception cref="AlreadyExistsException">path already holds a repository, or is inside one (nothing is changed).</exception>
        public static Workspace Init(string path, string name = null)
        {
            return Init(path, name, null);
        }

        /// <summary>Creates a repository at <paramref name="path"/> in the layout
        /// <paramref name="adopt"/> chooses: true versions path itself in place (<see cref="Path"/> is
        /// path, also when it is empty or missing), false keeps the standard layout (path/main) even
        /// beside existing files, null decides as <see cref="Init(string, string)"/> does.</summary>
        /// <param name="name">An informational repository name, or null.</param>
        /// <exception cref="AlreadyExistsException">path already holds a repository, or is inside one (nothing is changed).</exception>
        public static Workspace Init(string path, string name, bool? adopt)
        {
            var opts = new JObject();
            if (name != null) opts["name"] = name;
            if (adopt.HasValue) opts["adopt"] = adopt.Value;
            return OpenHandle(NativeMethods.jvs_repo_init, path, opts);
        }

        /// <summary>Opens the repository containing <paramref name="path"/>: any path inside a
        /// worktree opens that worktree; the repository root opens "main".</summary>
        /// <param name="worktree">Open this worktree of the repository instead.</param>
        /// <exception cref="NotFoundException">No repository at or above path (E_NOT_REPO).</exception>
        public static Workspace Open(string path, string worktree = null)
        {
            var opts = new JObject();
            if (worktree != null) opts["worktree"] = worktree;
            return OpenHandle(NativeMethods.jvs_repo_open, path, opts);
        }

        private delegate int OpenFn(byte[] path, byte[] opts, out RepoHandle repo, out IntPtr outJson);

        private static Workspace OpenHandle(OpenFn fn, string path, JObject opts)
        {
            if (path == null) throw new ArgumentNullException("path");
            Invoker.EnsureLoaded();
            Invoker.CheckNotInCallback();
            RepoHandle handle;
            IntPtr outJson;
            var status = fn(NativeMethods.Utf8(System.IO.Path.GetFullPath(path)), NativeMethods.Utf8(Json.Write(opts)),
                            out handle, out outJson);
            var doc = NativeMethods.TakeDocument(outJson);
            if (status != 0)
            {
                if (handle != null) handle.Dispose();
                throw JvsException.FromDocument(doc, status);
            }
            try
            {
                return new Workspace(handle, Json.Parse(doc));
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }

        /// <summary>The worktree's files: what is snapshotted and restored.</summary>
        public string Path { get; private set; }
        /// <summary>The repository root (the directory holding .jvs).</summary>
        public string RepoRoot { get; private set; }
        /// <summary>The repository's UUID.</summary>
        public string RepoId { get; private set; }
        /// <summary>The worktree this workspace is bound to ("main" for the first one).</summary>
        public string WorktreeName { get; private set; }
        /// <summary>How long writers wait for the worktree lock (null: the library's 30000 ms; 0: fail at once).</summary>
        public int? LockTimeoutMs { get; set; }
        /// <summary>Any libjvs operation by name, JSON in and out.</summary>
        public Native Native { get; private set; }
        /// <summary>Dispose() was called.</summary>
        public bool IsDisposed { get { return _disposed; } }

        /// <summary>Snapshots the worktree (or only <paramref name="paths"/>) and returns the new snapshot.</summary>
        /// <param name="note">Free text (UTF-8, any language).</param>
        /// <param name="tags">Tags to attach (letters, digits, '.', '_', '-').</param>
        /// <param name="paths">A partial snapshot of these paths, relative to <see cref="Path"/>
        /// (absolute paths inside it are accepted).</param>
        /// <param name="progress">Receives progress events; throwing from it cancels.</param>
        /// <param name="cancel">Cancels the snapshot: nothing is published.</param>
        /// <exception cref="DetachedException">The worktree was restored to an older snapshot.</exception>
        /// <exception cref="LockedException">Another writer holds the worktree.</exception>
        public Snapshot Snapshot(string note, IEnumerable<string> tags = null, IEnumerable<string> paths = null,
                                 IProgress<ProgressEvent> progress = null,
                                 CancellationToken cancel = default(CancellationToken))
        {
            var opts = new JObject { { "note", note ?? "" } };
            if (tags != null) opts["tags"] = new JArray(tags.Cast<object>().ToArray());
            if (paths != null) opts["paths"] = new JArray(paths.Select(RelativePath).Cast<object>().ToArray());
            var doc = Run("snapshot", Writer(opts), progress, cancel);
            return new Snapshot(Json.Obj(doc, "snapshot"));
        }

        /// <summary>Makes the worktree's files exactly those of a snapshot, in place (only files that
        /// differ are rewritten, each atomically). "HEAD" is the worktree's latest snapshot; an older
        /// one leaves the worktree detached.</summary>
        /// <param name="reference">An id, tag, unique prefix of an id/tag/note, "HEAD" or "&lt;ref&gt;~N".</param>
        /// <param name="dryRun">Only compute <see cref="RestoreResult.Changes"/>; touch nothing.</param>
        public RestoreResult Restore(string reference, bool dryRun = false, IProgress<ProgressEvent> progress = null,
                                     CancellationToken cancel = default(CancellationToken))
        {
            if (reference == null) throw new ArgumentNullException("reference");
            var opts = new JObject { { "ref", reference } };
            if (dryRun) opts["dry_run"] = true;
            return new RestoreResult(Run("restore", Writer(opts), progress, cancel));
        }

        /// <summary>Restores <paramref name="snapshot"/> (see <see cref="Restore(string, bool, IProgress{ProgressEvent}, CancellationToken)"/>).</summary>
        public RestoreResult Restore(Snapshot snapshot, bool dryRun = false, IProgress<ProgressEvent> progress = null,
                                     CancellationToken cancel = default(CancellationToken))
        {
            if (snapshot == null) throw new ArgumentNullException("snapshot");
            return Restore(snapshot.Id, dryRun, progress, cancel);
        }

        /// <summary>Snapshots of this worktree's line, newest first.</summary>
        /// <param name="limit">At most this many (0: all).</param>
        /// <param name="tag">Only snapshots carrying this tag.</param>
        /// <param name="grep">Only snapshots whose note contains this text.</param>
        /// <param name="all">Every snapshot of the repository, not only this lineage.</param>
        public IReadOnlyList<Snapshot> History(int limit = 0, string tag = null, string grep = null, bool all = false)
        {
            var opts = new JObject();
            if (limit != 0) opts["limit"] = limit;
            if (tag != null) opts["tag"] = tag;
            if (grep != null) opts["grep"] = grep;
            if (all) opts["all"] = true;
            var doc = Run("history", opts, null, default(CancellationToken));
            return Json.Objects(doc, "snapshots").Select(o => new Snapshot(o)).ToList().AsReadOnly();
        }

        /// <summary>The snapshot a reference names.</summary>
        /// <exception cref="NotFoundException">Nothing matches.</exception>
        /// <exception cref="AmbiguousRefException">Several match; Details["candidates"] lists them.</exception>
        public Snapshot Resolve(string reference)
        {
            if (reference == null) throw new ArgumentNullException("reference");
            var doc = Run("resolve", new JObject { { "ref", reference } }, null, default(CancellationToken));
            return new Snapshot(Json.Obj(doc, "snapshot"));
        }

        /// <summary>The snapshot the worktree's files correspond to (its head); null before the first
        /// snapshot. After Restore(old) this is old.</summary>
        public Snapshot CurrentSnapshot
        {
            get
            {
                try
                {
                    return Resolve("HEAD");
                }
                catch (NotFoundException e)
                {
                    if (e.Code == "E_NO_SNAPSHOTS") return null;
                    throw;
                }
            }
        }

        /// <summary>Creates a worktree from a snapshot that continues its line, and opens it.</summary>
        /// <param name="name">The new worktree's name (null: "fork-&lt;8 hex of the snapshot id&gt;").</param>
        /// <param name="from">The snapshot to fork (null: this worktree's head).</param>
        /// <returns>A new workspace on the fork: dispose it independently of this one.</returns>
        public Workspace Fork(string name, string from = null, IProgress<ProgressEvent> progress = null,
                              CancellationToken cancel = default(CancellationToken))
        {
            var opts = new JObject();
            if (name != null) opts["name"] = name;
            if (from != null) opts["from"] = from;
            var doc = Run("worktree_fork", Writer(opts), progress, cancel);
            return Open(Json.Str(Json.Obj(doc, "worktree"), "path"));
        }

        /// <summary>Creates a worktree, empty or with the files of <paramref name="from"/>, and opens it.</summary>
        public Workspace CreateWorktree(string name, string from = null, IProgress<ProgressEvent> progress = null,
                                        CancellationToken cancel = default(CancellationToken))
        {
            if (name == null) throw new ArgumentNullException("name");
            var opts = new JObject { { "name", name } };
            if (from != null) opts["from"] = from;
            var doc = Run("worktree_create", Writer(opts), progress, cancel);
            return Open(Json.Str(Json.Obj(doc, "worktree"), "path"));
        }

        /// <summary>Every worktree of the repository, by name.</summary>
        public IReadOnlyList<Worktree> Worktrees()
        {
            var doc = Run("worktree_list", null, null, default(CancellationToken));
            return Json.Objects(doc, "worktrees").Select(o => new Worktree(o)).ToList().AsReadOnly();
        }

        /// <summary>This worktree's record (head, latest, detached, ...), read fresh.</summary>
        public Worktree Worktree
        {
            get
            {
                var wt = Worktrees().FirstOrDefault(w => w.Name == WorktreeName);
                if (wt == null) throw new NotFoundException("worktree '" + WorktreeName + "' is gone");
                return wt;
            }
        }

        /// <summary>The files' directory of a worktree.</summary>
        public string WorktreePath(string name)
        {
            var doc = Run("worktree_path", new JObject { { "name", name ?? WorktreeName } }, null,
                          default(CancellationToken));
            return Json.Str(doc, "path");
        }

        /// <summary>Renames another worktree ("main" cannot be renamed: <see cref="ConflictException"/>).</summary>
        public Worktree RenameWorktree(string name, string newName)
        {
            var doc = Run("worktree_rename", Writer(new JObject { { "name", name }, { "new_name", newName } }), null,
                          default(CancellationToken));
            return new Worktree(Json.Obj(doc, "worktree"));
        }

        /// <summary>Removes a worktree and its files (its snapshots stay); <paramref name="force"/> is
        /// needed while it is detached.</summary>
        public void RemoveWorktree(string name, bool force = false)
        {
            var opts = new JObject { { "name", name } };
            if (force) opts["force"] = true;
            Run("worktree_remove", Writer(opts), null, default(CancellationToken));
        }

        /// <summary>What changed between two snapshots, or between a snapshot and the live files.</summary>
        /// <param name="from">The older side (null: the worktree's head).</param>
        /// <param name="to">The newer side (null: the files as they are now; nothing is written).</param>
        /// <param name="stat">Only count the changes.</param>
        public DiffResult Diff(string from = null, string to = null, bool stat = false,
                               IProgress<ProgressEvent> progress = null,
                               CancellationToken cancel = default(CancellationToken))
        {
            var opts = new JObject();
            if (from != null) opts["from"] = from;
            if (to != null) opts["to"] = to;
            if (stat) opts["stat"] = true;
            return new DiffResult(Run("diff", opts, progress, cancel));
        }

        /// <summary>Checks descriptor checksums, .READY markers, (with <paramref name="payload"/>) the
        /// stored files, and the audit chain. Damage is reported in the result, not thrown.</summary>
        /// <param name="reference">One snapshot; null: every snapshot of the repository.</param>
        public VerifyResult Verify(string reference = null, bool payload = true,
                                   IProgress<ProgressEvent> progress = null,
                                   CancellationToken cancel = default(CancellationToken))
        {
            var opts = reference != null ? new JObject { { "ref", reference } } : new JObject { { "all", true } };
            if (!payload) opts["payload"] = false;
            return new VerifyResult(Run("verify", opts, progress, cancel));
        }

        /// <summary>Repository information: id, root, engine, counts, library version.</summary>
        public RepositoryInfo Info()
        {
            return new RepositoryInfo(Run("info", null, null, default(CancellationToken)));
        }

        /// <summary>Cancels every call running on this workspace right now (from any thread): they
        /// throw <see cref="CancelledException"/> and leave everything as it was. No effect on later calls.</summary>
        public void Interrupt()
        {
            Invoker.Interrupt(_handle);
        }

        /// <summary>Closes the handle (after the calls still running on it return). Idempotent; any
        /// later call throws <see cref="WorkspaceClosedException"/>.</summary>
        public void Dispose()
        {
            _disposed = true;
            _handle.Dispose();
        }

        public override string ToString() { return "Workspace(" + Path + ")"; }

        // ---- plumbing ----------------------------------------------------------------------

        private JObject Writer(JObject opts)
        {
            var t = LockTimeoutMs;
            if (t.HasValue) opts["lock_timeout_ms"] = t.Value;
            return opts;
        }

        private JObject Run(string method, JObject opts, IProgress<ProgressEvent> progress, CancellationToken cancel)
        {
            return Json.Parse(Invoke(method, opts == null ? null : Json.Write(opts), progress, cancel));
        }

        /// <summary>One call by name. A cancellable call runs on a handle of its own, opened for it
        /// (cheap: no file stays open, no lock is held), so that cancelling it interrupts only it.</summary>
        internal string Invoke(string method, string paramsJson, IProgress<ProgressEvent> progress,
                               CancellationToken cancel)
        {
            try
            {
                var handle = Alive();
                if (!cancel.CanBeCanceled) return Invoker.Call(handle, method, paramsJson, progress, cancel);
                using (var own = Open(RepoRoot, WorktreeName))
                    return Invoker.Call(own._handle, method, paramsJson, progress, cancel);
            }
            catch (ObjectDisposedException)
            {
                throw Closed();
            }
        }

        private RepoHandle Alive()
        {
            if (_disposed) throw Closed();
            return _handle;
        }

        private WorkspaceClosedException Closed()
        {
            return new WorkspaceClosedException("the workspace " + Path + " is disposed");
        }

        private string RelativePath(string p)
        {
            if (p == null) throw new ArgumentNullException("paths", "a path is null");
            if (!System.IO.Path.IsPathRooted(p)) return p;
            var root = Path.TrimEnd('/', '\\') + "/";
            var full = System.IO.Path.GetFullPath(p).Replace('\\', '/');
            return full.StartsWith(root, StringComparison.Ordinal) ? full.Substring(root.Length) : p;
        }
    }
}
