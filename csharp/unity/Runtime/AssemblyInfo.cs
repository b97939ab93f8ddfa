using System.Reflection;
using System.Runtime.InteropServices;

[assembly: AssemblyTitle("Jvs")]
[assembly: AssemblyDescription("jvs workspace versioning: C# binding of libjvs (include/jvs.h)")]
[assembly: AssemblyVersion("1.0.0.0")]
[assembly: AssemblyInformationalVersion("1.0.0")]
// Where .NET looks for libjvs on Windows: beside this assembly and in system folders, never the
// current directory (DLL planting). Mono and Unity use their own search (see csharp/README.md).
[assembly: DefaultDllImportSearchPaths(DllImportSearchPath.AssemblyDirectory | DllImportSearchPath.SafeDirectories)]
