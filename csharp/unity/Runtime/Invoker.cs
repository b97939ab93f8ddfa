// One libjvs call: options in, document out, progress through one static trampoline, errors as
// JvsException, a progress handler's exception re-thrown after the call.
using System;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Threading;
using AOT;

#if !UNITY_5_3_OR_NEWER
namespace AOT
{
    /// <summary>Marks a static method that native code calls back. Unity's IL2CPP and Mono's full AOT
    /// recognise the attribute by this name (Unity ships its own in UnityEngine, used there instead).</summary>
    [AttributeUsage(AttributeTargets.Method)]
    internal sealed class MonoPInvokeCallbackAttribute : Attribute
    {
        public MonoPInvokeCallbackAttribute(Type type) { Type = type; }

        public Type Type { get; private set; }
    }
}
#endif

namespace Jvs
{
    internal static class Invoker
    {
        /// <summary>What one call's progress events need: reached from the trampoline through the
        /// GCHandle passed as user_data (a static method cannot capture anything: IL2CPP).</summary>
        private sealed class CallContext
        {
            internal IProgress<ProgressEvent> Progress;
            internal CancellationToken Token;
            internal Exception Thrown;
        }

        // > 0 while a progress handler runs on this thread: it must not call into libjvs (jvs.h).
        [ThreadStatic] private static int _callbackDepth;

        // The one delegate native code ever sees; a static field keeps it alive for the process.
        private static readonly EventCallback Trampoline = OnEvent;

        private static bool _loaded;

        [MonoPInvokeCallback(typeof(EventCallback))]
        private static int OnEvent(IntPtr eventJson, IntPtr userData)
        {
            CallContext ctx;
            try
            {
                ctx = (CallContext)GCHandle.FromIntPtr(userData).Target;
            }
            catch (Exception)
            {
                return 1; // cannot happen; never let an exception reach native code
            }
            if (ctx.Thrown != null || ctx.Token.IsCancellationRequested) return 1;
            if (ctx.Progress == null) return 0;
            _callbackDepth++;
            try
            {
                ctx.Progress.Report(new ProgressEvent(Json.Parse(NativeMethods.FromUtf8(eventJson))));
                return 0;
            }
            catch (Exception e)
            {
                ctx.Thrown = e;
                return 1;
            }
            finally
            {
                _callbackDepth--;
            }
        }

        /// <summary>Loads libjvs (once) and checks that it has the ABI this binding was written for.</summary>
        internal static void EnsureLoaded()
        {
            if (_loaded) return;
            uint abi;
            try
            {
                abi = NativeMethods.jvs_abi_version();
            }
            catch (DllNotFoundException e)
            {
                throw new DllNotFoundException(
                    "libjvs was not found: put libjvs.so (Linux), jvs.dll (Windows) or libjvs.dylib (macOS) " +
                    "beside Jvs.dll or in the plugin folder (Unity: Plugins/x86_64/)", e);
            }
            if (abi != NativeMethods.AbiVersion)
                throw new JvsException("the loaded libjvs has ABI " + abi + ", this binding needs " +
                                       NativeMethods.AbiVersion, "E_ABI_MISMATCH",
                                       "load libjvs.so." + NativeMethods.AbiVersion + " (a Unity editor keeps an " +
                                       "old plugin loaded until it restarts)", status: -10,
                                       statusName: "JVS_E_UNSUPPORTED");
            _loaded = true;
        }

        internal static void CheckNotInCallback()
        {
            if (_callbackDepth > 0)
                throw new JvsException("a progress handler must not call into jvs", "E_REENTRANT",
                                       "throw from the handler, or cancel its CancellationToken, to stop the call",
                                       status: -2, statusName: "JVS_E_INVALID_ARG");
        }

        /// <summary>jvs_call(repo, method, params, ...) and its document. A cancellable token
        /// interrupts the handle (jvs_repo_interrupt) when it is cancelled, and also stops the call at
        /// its next progress event.</summary>
        internal static string Call(RepoHandle repo, string method, string paramsJson,
                                    IProgress<ProgressEvent> progress, CancellationToken cancel)
        {
            CheckNotInCallback();
            cancel.ThrowIfCancellationRequested();
            var m = NativeMethods.Utf8(method);
            var p = NativeMethods.Utf8(paramsJson);
            IntPtr outJson;
            int status;
            if (progress == null && !cancel.CanBeCanceled)
            {
                status = NativeMethods.jvs_call(repo, m, p, null, IntPtr.Zero, out outJson);
                return Finish(status, outJson, null, cancel);
            }
            var ctx = new CallContext { Progress = progress, Token = cancel };
            var gch = GCHandle.Alloc(ctx);
            try
            {
                using (cancel.Register(() => Interrupt(repo)))
                    status = NativeMethods.jvs_call(repo, m, p, Trampoline, GCHandle.ToIntPtr(gch), out outJson);
            }
            finally
            {
                gch.Free();
            }
            return Finish(status, outJson, ctx.Thrown, cancel);
        }

        /// <summary>jvs_repo_interrupt, from any thread; a closed handle is left alone.</summary>
        internal static void Interrupt(RepoHandle repo)
        {
            try
            {
                if (!repo.IsClosed) NativeMethods.jvs_repo_interrupt(repo);
            }
            catch (ObjectDisposedException)
            {
                // closed meanwhile: nothing is running on it any more
            }
        }

        private static string Finish(int status, IntPtr outJson, Exception thrown, CancellationToken cancel)
        {
            var doc = NativeMethods.TakeDocument(outJson);
            if (thrown != null) ExceptionDispatchInfo.Capture(thrown).Throw();
            if (status != 0)
            {
                var e = JvsException.FromDocument(doc, status);
                if (e is CancelledException && cancel.IsCancellationRequested)
                    throw new OperationCanceledException(e.Message, e, cancel);
                throw e;
            }
            if (doc == null) throw new JvsException("libjvs returned no document", "E_INTERNAL");
            return doc;
        }
    }
}
