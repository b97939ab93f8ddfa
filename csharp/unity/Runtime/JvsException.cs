// The exceptions of the binding: one JvsException per failed library call, of the subclass of its
// error family (the same families as the Python SDK's jvs.errors), chosen by the stable E_... code.
using System;
using System.Collections.Generic;
using Newtonsoft.Json.Linq;

namespace Jvs
{
    /// <summary>A libjvs call failed. <see cref="Code"/> is the stable code to switch on
    /// (docs/API_REFERENCE.md §8.2); <see cref="Exception.Message"/> is for humans.</summary>
    public class JvsException : Exception
    {
        /// <summary>The stable fine-grained code, e.g. "E_REF_NOT_FOUND".</summary>
        public string Code { get; private set; }
        /// <summary>One line saying what to do about it ("" if none).</summary>
        public string Hint { get; private set; }
        /// <summary>Machine-readable specifics (an empty object when none).</summary>
        public JObject Details { get; private set; }
        /// <summary>The numeric jvs_status the call returned (JVS_E_*, negative).</summary>
        public int Status { get; private set; }
        /// <summary>Its name, e.g. "JVS_E_NOT_FOUND".</summary>
        public string StatusName { get; private set; }
        /// <summary>The operation that failed, e.g. "restore".</summary>
        public string Op { get; private set; }
        /// <summary>The whole error document as the library returned it (null if none).</summary>
        public string Document { get; private set; }

        public JvsException(string message, string code = "E_ERROR", string hint = "", JObject details = null,
                            int status = -1, string statusName = "JVS_E_ERROR", string op = "", string document = null,
                            Exception inner = null)
            : base(message, inner)
        {
            Code = code ?? "E_ERROR";
            Hint = hint ?? "";
            Details = details ?? new JObject();
            Status = status;
            StatusName = statusName ?? "JVS_E_ERROR";
            Op = op ?? "";
            Document = document;
        }

        public override string ToString()
        {
            var text = (Op.Length > 0 ? Op + ": " : "") + Message + " [" + Code + "]";
            if (Hint.Length > 0) text += " (hint: " + Hint + ")";
            return GetType().FullName + ": " + text + Environment.NewLine + StackTrace;
        }

        /// <summary>The exception for an error document (as any failing libjvs call returns it).
        /// An unknown code gives the base class; a missing document (only JVS_E_NOMEM may have none)
        /// gives <see cref="JvsOutOfMemoryException"/> for that status.</summary>
        public static JvsException FromDocument(string document, int status)
        {
            JObject err = null;
            if (document != null)
            {
                var doc = Json.TryParse(document);
                if (doc != null) err = doc["error"] as JObject;
            }
            if (err == null)
            {
                if (status == -11)
                    return new JvsOutOfMemoryException("libjvs ran out of memory", "E_NOMEM", "", null, status, "JVS_E_NOMEM");
                return new JvsException("libjvs failed with status " + status + " and no error document",
                                        status: status, document: document);
            }
            var code = Json.Str(err, "code") ?? "E_ERROR";
            var message = Json.Str(err, "message") ?? code;
            var hint = Json.Str(err, "hint") ?? "";
            var details = err["details"] as JObject;
            var st = err["status"] != null && err["status"].Type == JTokenType.Integer ? (int)err["status"] : status;
            var name = Json.Str(err, "status_name") ?? "";
            var op = Json.Str(err, "op") ?? "";
            Func<string, JvsException> make;
            if (!Families.TryGetValue(code, out make)) make = m => new JvsException(m);
            var e = make(message);
            // The family constructors take only the message; the rest is set here, in one place.
            e.Code = code;
            e.Hint = hint;
            e.Details = details ?? new JObject();
            e.Status = st;
            e.StatusName = name;
            e.Op = op;
            e.Document = document;
            return e;
        }

        // Codes are append-only; one this binding does not know yet raises the base class.
        private static readonly Dictionary<string, Func<string, JvsException>> Families =
            new Dictionary<string, Func<string, JvsException>>
        {
            { "E_ARG_NULL", m => new InvalidArgumentException(m) },
            { "E_JSON_INVALID", m => new InvalidArgumentException(m) },
            { "E_OPTION_INVALID", m => new InvalidArgumentException(m) },
            { "E_NOTE_INVALID", m => new InvalidArgumentException(m) },
            { "E_PATH_INVALID", m => new InvalidArgumentException(m) },
            { "E_PATH_ESCAPE", m => new InvalidArgumentException(m) },
            { "E_NAME_INVALID", m => new InvalidNameException(m) },
            { "E_TAG_INVALID", m => new InvalidNameException(m) },
            { "E_REF_AMBIGUOUS", m => new AmbiguousRefException(m) },
            { "E_OPTION_UNKNOWN", m => new UnsupportedException(m) },
            { "E_METHOD_UNKNOWN", m => new UnsupportedException(m) },
            { "E_FORMAT_UNSUPPORTED", m => new UnsupportedException(m) },
            { "E_SPECIAL_FILE", m => new UnsupportedException(m) },
            { "E_NOT_REPO", m => new NotFoundException(m) },
            { "E_NOT_WORKTREE", m => new NotFoundException(m) },
            { "E_WORKTREE_NOT_FOUND", m => new NotFoundException(m) },
            { "E_REF_NOT_FOUND", m => new NotFoundException(m) },
            { "E_NO_SNAPSHOTS", m => new NotFoundException(m) },
            { "E_PATH_NOT_FOUND", m => new NotFoundException(m) },
            { "E_REPO_EXISTS", m => new AlreadyExistsException(m) },
            { "E_WORKTREE_EXISTS", m => new AlreadyExistsException(m) },
            { "E_WORKTREE_MAIN", m => new ConflictException(m) },
            { "E_GC_PLAN_MISMATCH", m => new ConflictException(m) },
            { "E_PATH_CONFLICT", m => new ConflictException(m) },
            { "E_DETACHED", m => new DetachedException(m) },
            { "E_LOCKED", m => new LockedException(m) },
            { "E_CONFIG_CORRUPT", m => new CorruptException(m) },
            { "E_DESCRIPTOR_CORRUPT", m => new CorruptException(m) },
            { "E_CHECKSUM_MISMATCH", m => new CorruptException(m) },
            { "E_PAYLOAD_HASH_MISMATCH", m => new CorruptException(m) },
            { "E_COMPRESSED_UNVERIFIED", m => new CorruptException(m) },
            { "E_SNAPSHOT_INCOMPLETE", m => new CorruptException(m) },
            { "E_READY_MISMATCH", m => new CorruptException(m) },
            { "E_AUDIT_CHAIN_BROKEN", m => new CorruptException(m) },
            { "E_PATH_UNSAFE", m => new CorruptException(m) },
            { "E_IO", m => new IOFailureException(m) },
            { "E_NO_SPACE", m => new IOFailureException(m) },
            { "E_CANCELLED", m => new CancelledException(m) },
            { "E_INTERNAL", m => new InternalErrorException(m) },
            { "E_NOMEM", m => new JvsOutOfMemoryException(m) },
        };
    }

    /// <summary>An argument or option is malformed (bad JSON, wrong option type, bad path or note).</summary>
    public class InvalidArgumentException : JvsException
    {
        public InvalidArgumentException(string message, string code = "E_OPTION_INVALID") : base(message, code) { }
    }

    /// <summary>A worktree, repository or tag name breaks the naming rules.</summary>
    public class InvalidNameException : InvalidArgumentException
    {
        public InvalidNameException(string message) : base(message, "E_NAME_INVALID") { }
    }

    /// <summary>A reference matched several snapshots; Details["candidates"] lists them.</summary>
    public class AmbiguousRefException : InvalidArgumentException
    {
        public AmbiguousRefException(string message) : base(message, "E_REF_AMBIGUOUS") { }
    }

    /// <summary>Unknown option or operation, newer repository format, or a special file in the workspace.</summary>
    public class UnsupportedException : JvsException
    {
        public UnsupportedException(string message) : base(message, "E_OPTION_UNKNOWN") { }
    }

    /// <summary>No repository, worktree, snapshot or path matched.</summary>
    public class NotFoundException : JvsException
    {
        public NotFoundException(string message) : base(message, "E_REF_NOT_FOUND") { }
    }

    /// <summary>A repository or worktree of that name already exists.</summary>
    public class AlreadyExistsException : JvsException
    {
        public AlreadyExistsException(string message) : base(message, "E_WORKTREE_EXISTS") { }
    }

    /// <summary>The operation conflicts with the repository's state (e.g. removing "main").</summary>
    public class ConflictException : JvsException
    {
        public ConflictException(string message, string code = "E_WORKTREE_MAIN") : base(message, code) { }
    }

    /// <summary>The worktree is detached (its head is not its latest snapshot) and cannot be
    /// snapshotted: Restore("HEAD") goes back to the latest snapshot, Fork() continues from here.</summary>
    public class DetachedException : ConflictException
    {
        public DetachedException(string message) : base(message, "E_DETACHED") { }
    }

    /// <summary>Another writer held the worktree lock past the timeout; the holder is in Details.</summary>
    public class LockedException : JvsException
    {
        public LockedException(string message) : base(message, "E_LOCKED") { }
    }

    /// <summary>Repository metadata or a snapshot failed an integrity check.</summary>
    public class CorruptException : JvsException
    {
        public CorruptException(string message) : base(message, "E_DESCRIPTOR_CORRUPT") { }
    }

    /// <summary>A filesystem call failed (Details names the call, the path and errno).</summary>
    public class IOFailureException : JvsException
    {
        public IOFailureException(string message) : base(message, "E_IO") { }
    }

    /// <summary>The operation was cancelled by <see cref="Workspace.Interrupt"/> and left everything as
    /// it was. (A call cancelled through its CancellationToken throws OperationCanceledException,
    /// with this as its inner exception.)</summary>
    public class CancelledException : JvsException
    {
        public CancelledException(string message) : base(message, "E_CANCELLED") { }
    }

    /// <summary>A bug in libjvs; please report it with <see cref="JvsException.Document"/>.</summary>
    public class InternalErrorException : JvsException
    {
        public InternalErrorException(string message) : base(message, "E_INTERNAL") { }
    }

    /// <summary>libjvs ran out of memory (JVS_E_NOMEM); the error document may be missing.</summary>
    public class JvsOutOfMemoryException : JvsException
    {
        public JvsOutOfMemoryException(string message) : base(message, "E_NOMEM") { }

        internal JvsOutOfMemoryException(string message, string code, string hint, JObject details, int status,
                                         string statusName)
            : base(message, code, hint, details, status, statusName) { }
    }

    /// <summary>The <see cref="Workspace"/> was disposed (code E_CLOSED, raised by the binding).</summary>
    public class WorkspaceClosedException : JvsException
    {
        public WorkspaceClosedException(string message) : base(message, "E_CLOSED") { }
    }
}
