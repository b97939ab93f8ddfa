// The library the binding loaded, and examples/csharp/Quickstart.cs run as a program.
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Newtonsoft.Json.Linq;
using NUnit.Framework;

namespace Jvs.Tests
{
    [TestFixture]
    public class LibraryTests : Fixture
    {
        [Test]
        public void VersionsAndBuildInfo()
        {
            Assert.AreEqual(1u, Native.AbiVersion);
            Assert.AreEqual("1.0.0", Native.Version);
            var info = JObject.Parse(Native.BuildInfo());
            Assert.AreEqual("build_info", (string)info["kind"]);
            Assert.AreEqual(Native.Version, (string)info["version"]);
            CollectionAssert.Contains(info["operations"].Select(o => (string)o["name"]).ToArray(), "worktree_fork");
        }

        [Test]
        public void TheSelfContainedLibraryBesideTheAssemblyIsLoaded()
        {
            using (NewRepo()) { }
            var maps = File.ReadAllLines("/proc/self/maps");
            var jvs = maps.Where(l => l.Contains("/libjvs.so")).Select(l => l.Substring(l.IndexOf('/'))).Distinct().ToArray();
            Assert.AreEqual(1, jvs.Length, string.Join("\n", jvs));
            Assert.AreEqual(Path.GetFullPath(AssemblyDir), Path.GetDirectoryName(jvs[0]));
            var replaced = maps.Where(l => new[] { "libyaml-cpp", "libutf8proc", "libcrypto.so", "libstdc++" }
                                          .Any(l.Contains)).ToArray();
            if (Environment.GetEnvironmentVariable("JVS_CSHARP_REQUIRE_BUNDLED") != "1" && replaced.Length > 0)
                Assert.Ignore("the ordinary libjvs was loaded (the self-contained build was not made)");
            Assert.IsEmpty(replaced, "libjvs pulled in shared libraries it should contain");
        }

        [Test]
        public void QuickstartExampleRuns()
        {
            var exe = Path.Combine(AssemblyDir, "Quickstart.exe");
            Assert.IsTrue(File.Exists(exe), exe);
            var repo = Path.Combine(Tmp, "quickstart");
            var psi = new ProcessStartInfo("mono", "\"" + exe + "\" \"" + repo + "\"")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            string stdout, stderr;
            int code;
            using (var p = Process.Start(psi))
            {
                stdout = p.StandardOutput.ReadToEnd();
                stderr = p.StandardError.ReadToEnd();
                p.WaitForExit();
                code = p.ExitCode;
            }
            Assert.AreEqual(0, code, stdout + stderr);
            StringAssert.Contains("restored", stdout);
            using (var ws = Workspace.Open(repo))
            {
                var history = ws.History(all: true); // the worktree is back at v1: its lineage has one
                Assert.AreEqual(2, history.Count, stdout);
                Assert.AreEqual("Hello, world.", Read(Path.Combine(ws.Path, "hello.txt")));
                Assert.AreEqual(history[1], ws.CurrentSnapshot);
            }
        }
    }
}
