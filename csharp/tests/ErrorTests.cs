// Every error family, raised by the real library (and the mapping of every code it can produce).
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using Newtonsoft.Json.Linq;
using NUnit.Framework;

namespace Jvs.Tests
{
    [TestFixture]
    public class ErrorTests : Fixture
    {
        private static T Throws<T>(TestDelegate call, string code) where T : JvsException
        {
            var e = Assert.Throws<T>(call);
            Assert.AreEqual(code, e.Code);
            Assert.IsNotNull(e.Document);
            Assert.AreEqual("error", (string)JObject.Parse(e.Document)["kind"]);
            Assert.Less(e.Status, 0);
            StringAssert.StartsWith("JVS_E_", e.StatusName);
            Assert.IsNotEmpty(e.Message);
            Assert.IsNotNull(e.Details);
            StringAssert.Contains("[" + code + "]", e.ToString());
            return e;
        }

        [Test]
        public void InvalidArgument()
        {
            using (var ws = NewRepo())
            {
                var e = Throws<InvalidArgumentException>(() => ws.History(limit: -1), "E_OPTION_INVALID");
                Assert.AreEqual("limit", (string)e.Details["key"]);
                Assert.AreEqual("history", e.Op);
                Throws<InvalidArgumentException>(() => ws.Snapshot("x", paths: new[] { "../outside" }), "E_PATH_INVALID");
                Throws<InvalidArgumentException>(() => ws.Native.Call("history", "[1,2]"), "E_JSON_INVALID");
            }
        }

        [Test]
        public void InvalidName()
        {
            using (var ws = NewRepo())
            {
                Write(Path.Combine(ws.Path, "a"), "a");
                var e = Throws<InvalidNameException>(() => ws.Snapshot("x", new[] { "-bad tag" }), "E_TAG_INVALID");
                Assert.IsInstanceOf<InvalidArgumentException>(e);
                ws.Snapshot("ok");
                Throws<InvalidNameException>(() => ws.Fork("no spaces allowed"), "E_NAME_INVALID");
            }
        }

        [Test]
        public void AmbiguousRef()
        {
            using (var ws = NewRepo())
            {
                Write(Path.Combine(ws.Path, "a"), "1");
                ws.Snapshot("alpha one");
                Write(Path.Combine(ws.Path, "a"), "2");
                ws.Snapshot("alpha two");
                var e = Throws<AmbiguousRefException>(() => ws.Resolve("alpha"), "E_REF_AMBIGUOUS");
                Assert.IsInstanceOf<InvalidArgumentException>(e);
                Assert.AreEqual(2, ((JArray)e.Details["candidates"]).Count);
                Assert.IsNotEmpty(e.Hint);
            }
        }

        [Test]
        public void Unsupported()
        {
            using (var ws = NewRepo())
            {
                var e = Throws<UnsupportedException>(() => ws.Native.Call("no_such_method", null), "E_METHOD_UNKNOWN");
                Assert.AreEqual("no_such_method", (string)e.Details["method"]);
                var o = Throws<UnsupportedException>(() => ws.Native.Call("history", "{\"bogus\":1}"), "E_OPTION_UNKNOWN");
                Assert.AreEqual("bogus", (string)o.Details["key"]);
                CollectionAssert.Contains(o.Details["allowed"].Select(t => (string)t).ToArray(), "limit");
            }
        }

        [Test]
        public void NotFound()
        {
            using (var ws = NewRepo())
            {
                Write(Path.Combine(ws.Path, "a"), "a");
                ws.Snapshot("s");
                var e = Throws<NotFoundException>(() => ws.Resolve("no-such-snapshot"), "E_REF_NOT_FOUND");
                Assert.AreEqual("no-such-snapshot", (string)e.Details["ref"]);
                Assert.IsNotEmpty(e.Hint);
                Throws<NotFoundException>(() => Workspace.Open(Tmp), "E_NOT_REPO");
                Throws<NotFoundException>(() => Workspace.Open(ws.RepoRoot, "nope"), "E_WORKTREE_NOT_FOUND");
                Throws<NotFoundException>(() => ws.Snapshot("x", paths: new[] { "missing.txt" }), "E_PATH_NOT_FOUND");
            }
        }

        [Test]
        public void AlreadyExists()
        {
            using (var ws = NewRepo())
            {
                var e = Throws<AlreadyExistsException>(() => NewRepo(), "E_REPO_EXISTS");
                Assert.AreEqual("repo_init", e.Op);
                Assert.AreEqual(-4, e.Status);
                Assert.AreEqual("JVS_E_EXISTS", e.StatusName);
                ws.CreateWorktree("twin").Dispose();
                Throws<AlreadyExistsException>(() => ws.CreateWorktree("twin"), "E_WORKTREE_EXISTS");
            }
        }

        [Test]
        public void ConflictAndDetached()
        {
            using (var ws = NewRepo())
            {
                Throws<ConflictException>(() => ws.RemoveWorktree("main"), "E_WORKTREE_MAIN");
                Write(Path.Combine(ws.Path, "a"), "1");
                var first = ws.Snapshot("first");
                Write(Path.Combine(ws.Path, "a"), "2");
                ws.Snapshot("second");
                ws.Restore(first);
                var e = Throws<DetachedException>(() => ws.Snapshot("refused"), "E_DETACHED");
                Assert.IsInstanceOf<ConflictException>(e);
                Assert.AreEqual(first.Id, (string)e.Details["head_snapshot_id"]);
                ws.Restore("HEAD");
                Write(Path.Combine(ws.Path, "a"), "3");
                Assert.AreEqual("third", ws.Snapshot("third").Note);
            }
        }

        [Test]
        public void Locked()
        {
            using (var ws = NewRepo())
            using (var other = Workspace.Open(ws.Path))
            {
                Write(Path.Combine(ws.Path, "a"), "a");
                // One writer holds the worktree lock while its progress handler waits ...
                using (var holder = new PausedCall(progress => ws.Snapshot("holder", progress: progress)))
                {
                    // ... so another writer that will not wait fails at once, naming the holder.
                    other.LockTimeoutMs = 0;
                    var e = Throws<LockedException>(() => other.Snapshot("second writer"), "E_LOCKED");
                    Assert.AreEqual("snapshot", (string)e.Details["holder"]["op"]);
                    Assert.AreEqual(Process.GetCurrentProcess().Id, (int)e.Details["holder"]["pid"]);
                }
                Assert.AreEqual("holder", ws.History().Single().Note);
            }
        }

        [Test]
        public void Corrupt()
        {
            using (var ws = NewRepo())
            {
                Write(Path.Combine(ws.Path, "a"), "1");
                var s = ws.Snapshot("original note");
                Write(Path.Combine(ws.Path, "a"), "2");
                ws.Snapshot("later");
                var descriptor = Path.Combine(ws.RepoRoot, ".jvs", "descriptors", s.Id + ".json");
                File.WriteAllText(descriptor, File.ReadAllText(descriptor).Replace("original note", "forged note!!"));
                var e = Throws<CorruptException>(() => ws.Restore(s.Id), "E_CHECKSUM_MISMATCH");
                Assert.AreEqual(s.Id, (string)e.Details["snapshot_id"]);
                Assert.AreEqual("2", Read(Path.Combine(ws.Path, "a"))); // nothing was restored
            }
        }

        [Test]
        public void IOFailureWhenTheFilesystemIsFull()
        {
            var mnt = Path.Combine(Tmp, "small");
            Directory.CreateDirectory(mnt);
            if (!Run("mount", "-t tmpfs -o size=512k tmpfs " + mnt))
                Assert.Ignore("cannot mount a small tmpfs here (needs root): E_NO_SPACE not exercised");
            try
            {
                using (var ws = Workspace.Init(Path.Combine(mnt, "repo")))
                {
                    File.WriteAllBytes(Path.Combine(ws.Path, "big.bin"), new byte[300 * 1024]);
                    var e = Throws<IOFailureException>(() => ws.Snapshot("does not fit"), "E_NO_SPACE");
                    Assert.IsNotNull(e.Details["errno"]);
                    Assert.IsEmpty(ws.History()); // nothing was published
                }
            }
            finally
            {
                Run("umount", mnt);
            }
        }

        [Test]
        public void Cancelled()
        {
            using (var ws = NewRepo())
            {
                Write(Path.Combine(ws.Path, "a"), "a");
                // Interrupt() is the one call a progress handler may make.
                var e = Throws<CancelledException>(
                    () => ws.Snapshot("never", progress: new Handler<ProgressEvent>(ev => ws.Interrupt())), "E_CANCELLED");
                Assert.AreEqual(-9, e.Status);
                Assert.IsEmpty(ws.History());
            }
        }

        [Test]
        public void FamiliesOfCodesNoCallHereCanProduce()
        {
            var internalError = JvsException.FromDocument(
                "{\"schema\":1,\"kind\":\"error\",\"error\":{\"status\":-12,\"status_name\":\"JVS_E_INTERNAL\"," +
                "\"code\":\"E_INTERNAL\",\"message\":\"bug\",\"hint\":\"please report this bug\",\"op\":\"snapshot\"}}", -12);
            Assert.IsInstanceOf<InternalErrorException>(internalError);
            Assert.AreEqual("please report this bug", internalError.Hint);
            Assert.AreEqual("bug", internalError.Message);
            var oom = JvsException.FromDocument(null, -11);
            Assert.IsInstanceOf<JvsOutOfMemoryException>(oom);
            Assert.AreEqual("E_NOMEM", oom.Code);
            var future = JvsException.FromDocument(
                "{\"schema\":1,\"kind\":\"error\",\"error\":{\"status\":-1,\"code\":\"E_FROM_THE_FUTURE\",\"message\":\"m\"}}", -1);
            Assert.AreEqual(typeof(JvsException), future.GetType());
            Assert.AreEqual("E_FROM_THE_FUTURE", future.Code);
        }

        [Test]
        public void EveryCodeTheLibraryHasMapsToAFamily()
        {
            var codes = JObject.Parse(Native.BuildInfo())["error_codes"].Select(t => (string)t).ToArray();
            Assert.That(codes.Length, Is.GreaterThan(30));
            foreach (var code in codes)
            {
                var doc = new JObject
                {
                    { "schema", 1 }, { "kind", "error" },
                    { "error", new JObject { { "status", -1 }, { "code", code }, { "message", "m" } } },
                };
                var e = JvsException.FromDocument(doc.ToString(), -1);
                Assert.AreNotEqual(typeof(JvsException), e.GetType(), code + " has no family");
                Assert.AreEqual(code, e.Code);
            }
        }

        private static bool Run(string file, string args)
        {
            try
            {
                using (var p = Process.Start(new ProcessStartInfo(file, args)
                       { UseShellExecute = false, RedirectStandardError = true }))
                {
                    p.StandardError.ReadToEnd();
                    p.WaitForExit();
                    return p.ExitCode == 0;
                }
            }
            catch (Exception)
            {
                return false;
            }
        }
    }
}
