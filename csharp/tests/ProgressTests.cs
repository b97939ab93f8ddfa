// Progress events, a throwing handler, CancellationToken and Interrupt(): all on the real library.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using NUnit.Framework;

namespace Jvs.Tests
{
    [TestFixture]
    public class ProgressTests : Fixture
    {
        private sealed class Boom : Exception
        {
            public Boom() : base("boom from the handler") { }
        }

        private Workspace RepoWithFiles(int files = 20)
        {
            var ws = NewRepo();
            for (var i = 0; i < files; i++) Write(Path.Combine(ws.Path, "d" + (i % 4), "f" + i + ".txt"), new string('x', 100 + i));
            return ws;
        }

        [Test]
        public void EventsArriveSynchronouslyOnTheCallingThread()
        {
            using (var ws = RepoWithFiles())
            {
                var events = new List<ProgressEvent>();
                var threads = new HashSet<int>();
                var s = ws.Snapshot("with progress", progress: new Handler<ProgressEvent>(ev =>
                {
                    events.Add(ev);
                    threads.Add(Thread.CurrentThread.ManagedThreadId);
                }));
                Assert.IsNotEmpty(events);
                CollectionAssert.AreEqual(new[] { Thread.CurrentThread.ManagedThreadId }, threads.ToArray());
                Assert.IsTrue(events.All(e => e.Kind == "progress" && e.Op == "snapshot"));
                var phases = events.Select(e => e.Phase).Distinct().ToArray();
                CollectionAssert.IsSubsetOf(new[] { "scan", "copy" }, phases);
                var lastCopy = events.Last(e => e.Phase == "copy");
                Assert.AreEqual(lastCopy.Total, lastCopy.Done);
                Assert.AreEqual(20, lastCopy.Total);
                Assert.Greater(lastCopy.BytesTotal, 2000);
                StringAssert.Contains("\"kind\":\"progress\"", events[0].ToJson());
                Assert.AreEqual("with progress", s.Note);

                var restoreEvents = new List<ProgressEvent>();
                File.Delete(Path.Combine(ws.Path, "d0", "f0.txt"));
                ws.Restore("HEAD", progress: new Handler<ProgressEvent>(restoreEvents.Add));
                Assert.IsTrue(restoreEvents.Any(e => e.Op == "restore" && e.Phase == "write"));

                var verifyEvents = new List<ProgressEvent>();
                ws.Verify(progress: new Handler<ProgressEvent>(verifyEvents.Add));
                Assert.IsTrue(verifyEvents.Any(e => e.Phase == "verify"));

                var forkEvents = new List<ProgressEvent>();
                ws.Fork("f", progress: new Handler<ProgressEvent>(forkEvents.Add)).Dispose();
                Assert.IsTrue(forkEvents.Any(e => e.Op == "worktree_fork"));

                var callEvents = new List<ProgressEvent>();
                ws.Native.Call("verify", "{\"all\":true}", new Handler<ProgressEvent>(callEvents.Add));
                Assert.IsNotEmpty(callEvents);
            }
        }

        [Test]
        public void AThrowingHandlerCancelsAndItsExceptionIsRethrown()
        {
            using (var ws = RepoWithFiles())
            {
                var thrown = new Boom();
                var calls = 0;
                var caught = Assert.Throws<Boom>(() => ws.Snapshot("never", progress: new Handler<ProgressEvent>(ev =>
                {
                    calls++;
                    throw thrown;
                })));
                Assert.AreSame(thrown, caught);
                Assert.AreEqual(1, calls); // the operation stopped at the first event
                Assert.IsEmpty(ws.History()); // nothing was published
                Assert.IsFalse(Directory.EnumerateFileSystemEntries(Path.Combine(ws.RepoRoot, ".jvs", "snapshots")).Any());
                StringAssert.Contains("ProgressTests", caught.StackTrace); // the handler's stack is kept

                var s = ws.Snapshot("kept");
                Write(Path.Combine(ws.Path, "d0", "f0.txt"), "changed");
                Assert.Throws<Boom>(() => ws.Restore(s, progress: new Handler<ProgressEvent>(ev => { throw new Boom(); })));
                Assert.AreEqual(s, ws.CurrentSnapshot);
            }
        }

        [Test]
        public void AHandlerMustNotCallIntoJvs()
        {
            using (var ws = RepoWithFiles(2))
            {
                var e = Assert.Throws<JvsException>(() => ws.Snapshot("x", progress: new Handler<ProgressEvent>(ev => ws.History())));
                Assert.AreEqual("E_REENTRANT", e.Code);
                Assert.IsEmpty(ws.History());
            }
        }

        [Test]
        public void ACancelledTokenStopsTheCall()
        {
            using (var ws = RepoWithFiles())
            using (var cts = new CancellationTokenSource())
            {
                cts.Cancel();
                Assert.Throws<OperationCanceledException>(() => ws.Snapshot("before", cancel: cts.Token));
                Assert.IsEmpty(ws.History());
            }
        }

        [Test]
        public void CancellingTheTokenDuringTheCallInterruptsIt()
        {
            using (var ws = RepoWithFiles())
            using (var cts = new CancellationTokenSource())
            {
                var e = Assert.Throws<OperationCanceledException>(() => ws.Snapshot("cancelled", progress:
                    new Handler<ProgressEvent>(ev => cts.Cancel()), cancel: cts.Token));
                Assert.AreEqual(cts.Token, e.CancellationToken);
                Assert.IsInstanceOf<CancelledException>(e.InnerException);
                Assert.IsEmpty(ws.History());
                // the token only concerned that call
                Assert.AreEqual("after", ws.Snapshot("after", cancel: new CancellationTokenSource().Token).Note);
            }
        }

        [Test]
        public void CancellingOneCallLeavesOtherCallsOnTheWorkspaceRunning()
        {
            using (var ws = RepoWithFiles())
            using (var cts = new CancellationTokenSource())
            {
                ws.Snapshot("base");
                // A verify runs on the same workspace, paused in its handler ...
                using (var verify = new PausedCall(progress => ws.Verify(progress: progress)))
                {
                    // ... while a token cancels a restore on it: only the restore stops.
                    Assert.Throws<OperationCanceledException>(() => ws.Restore("HEAD", progress:
                        new Handler<ProgressEvent>(ev => cts.Cancel()), cancel: cts.Token));
                    verify.Finish();
                    Assert.IsNull(verify.Error);
                    Assert.IsTrue(((VerifyResult)verify.Result).Ok);
                }
            }
        }

        [Test]
        public void InterruptFromAnotherThread()
        {
            using (var ws = RepoWithFiles())
            {
                using (var call = new PausedCall(progress => ws.Snapshot("interrupted", progress: progress)))
                {
                    ws.Interrupt();
                    call.Finish();
                    Assert.IsInstanceOf<CancelledException>(call.Error);
                }
                Assert.IsEmpty(ws.History());
                ws.Interrupt(); // idle: harmless
                Assert.AreEqual("next", ws.Snapshot("next").Note);
            }
        }
    }
}
