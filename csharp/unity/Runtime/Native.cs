// The untyped door to libjvs: any operation by name, JSON in and out, for what the typed
// Workspace API does not cover yet (gc_plan, doctor, config_set, ...). Library-level queries too.
using System;
using System.Threading;

namespace Jvs
{
    /// <summary>Raw access to libjvs through <c>jvs_call</c>: <c>workspace.Native.Call("gc_plan", "{}")</c>.
    /// Every operation, its options and its result document are in docs/API_REFERENCE.md; new
    /// operations ship there first.</summary>
    public sealed class Native
    {
        private readonly Workspace _workspace;

        internal Native(Workspace workspace) { _workspace = workspace; }

        /// <summary>Runs operation <paramref name="method"/> ("diff", "doctor", "gc_plan", "gc_run",
        /// "config_get", "snapshot", ...) with <paramref name="paramsJson"/> as its options (null or
        /// "" = defaults) on this workspace's worktree, and returns the result document (JSON).
        /// Throws <see cref="JvsException"/> (a family subclass) on failure.</summary>
        public string Call(string method, string paramsJson)
        {
            return Call(method, paramsJson, null, default(CancellationToken));
        }

        /// <summary>As <see cref="Call(string, string)"/>, with progress events and cancellation.</summary>
        public string Call(string method, string paramsJson, IProgress<ProgressEvent> progress,
                           CancellationToken cancel = default(CancellationToken))
        {
            if (method == null) throw new ArgumentNullException("method");
            return _workspace.Invoke(method, paramsJson, progress, cancel);
        }

        /// <summary>The ABI of the loaded library (1 for the whole 1.x series).</summary>
        public static uint AbiVersion
        {
            get
            {
                Invoker.EnsureLoaded();
                return NativeMethods.jvs_abi_version();
            }
        }

        /// <summary>The version of the loaded library, e.g. "1.0.0".</summary>
        public static string Version
        {
            get
            {
                Invoker.EnsureLoaded();
                return NativeMethods.FromUtf8(NativeMethods.jvs_version_string());
            }
        }

        /// <summary>The build_info document: version, features, every operation with its option keys,
        /// every error code (use it for feature detection).</summary>
        public static string BuildInfo()
        {
            Invoker.EnsureLoaded();
            IntPtr outJson;
            var status = NativeMethods.jvs_build_info(out outJson);
            var doc = NativeMethods.TakeDocument(outJson);
            if (status != 0) throw JvsException.FromDocument(doc, status);
            return doc;
        }
    }
}
