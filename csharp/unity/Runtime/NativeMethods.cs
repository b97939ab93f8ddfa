// P/Invoke declarations of include/jvs.h, as it is. Strings go in as NUL-terminated UTF-8 byte[]
// and documents come out as `out IntPtr`, decoded here and released with jvs_free (never a `string`
// return: the marshaller would free the library's memory with the wrong allocator).
using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Jvs
{
    /// <summary>int32_t (*jvs_event_cb)(const char *event_json, void *user_data)</summary>
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int EventCallback(IntPtr eventJson, IntPtr userData);

    /// <summary>The owned jvs_repo* of a workspace: jvs_repo_close runs exactly once, and never while
    /// a call is using the handle (the marshaller holds a reference on it during each call).</summary>
    internal sealed class RepoHandle : SafeHandle
    {
        public RepoHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.jvs_repo_close(handle);
            return true;
        }
    }

    internal static class NativeMethods
    {
        // "jvs" resolves to libjvs.so (Linux), jvs.dll (Windows), libjvs.dylib (macOS): the names
        // Unity and .NET look for beside the assembly or in the plugin folder. Under plain Mono,
        // Jvs.dll.config maps it to the SONAME libjvs.so.1.
        internal const string Library = "jvs";
        internal const uint AbiVersion = 1;

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint jvs_abi_version();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint jvs_version_number();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr jvs_version_string(); // static: never freed

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int jvs_build_info(out IntPtr outJson);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void jvs_free(IntPtr ptr);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int jvs_repo_init(byte[] path, byte[] optsJson, out RepoHandle outRepo, out IntPtr outJson);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int jvs_repo_open(byte[] path, byte[] optsJson, out RepoHandle outRepo, out IntPtr outJson);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void jvs_repo_close(IntPtr repo);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void jvs_repo_interrupt(RepoHandle repo);

        // Every operation is also reachable by name through jvs_call, with the same semantics
        // (docs/API_REFERENCE.md §3.3): the binding uses this one entry point for all of them.
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int jvs_call(RepoHandle repo, byte[] method, byte[] paramsJson, EventCallback cb,
                                            IntPtr userData, out IntPtr outJson);

        /// <summary>NUL-terminated UTF-8 (null stays null: "all defaults" / a NULL argument).</summary>
        internal static byte[] Utf8(string s)
        {
            if (s == null) return null;
            var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
            Encoding.UTF8.GetBytes(s, 0, s.Length, bytes, 0);
            return bytes;
        }

        /// <summary>Decodes a NUL-terminated UTF-8 string the library owns (not freed here).
        /// Marshal.PtrToStringUTF8 is not part of .NET Standard 2.0.</summary>
        internal static unsafe string FromUtf8(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            byte* s = (byte*)p;
            int n = 0;
            while (s[n] != 0) n++;
            return Encoding.UTF8.GetString(s, n);
        }

        /// <summary>Decodes a document the library returned and releases it with jvs_free.</summary>
        internal static string TakeDocument(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            try
            {
                return FromUtf8(p);
            }
            finally
            {
                jvs_free(p);
            }
        }
    }
}
