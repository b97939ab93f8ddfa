// Many threads on one repository: forks, snapshots, one shared Workspace, Dispose during a call.
using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Threading;
using NUnit.Framework;

namespace Jvs.Tests
{
    [TestFixture]
    public class ThreadTests : Fixture
    {
        [Test]
        public void SixteenThreadsEachForkAndSnapshot()
        {
            using (var ws = NewRepo())
            {
                Write(Path.Combine(ws.Path, "shared.txt"), "base");
                var baseSnap = ws.Snapshot("base");
                var errors = new ConcurrentQueue<Exception>();
                var snaps = new ConcurrentDictionary<int, Snapshot>();
                using (var start = new ManualResetEventSlim())
                {
                    var threads = Enumerable.Range(0, 16).Select(i => new Thread(() =>
                    {
                        try
                        {
                            start.Wait();
                            using (var fork = ws.Fork("agent-" + i)) // one shared Workspace forks ...
                            {
                                Write(Path.Combine(fork.Path, "agent.txt"), "agent " + i);
                                Write(Path.Combine(fork.Path, "shared.txt"), "edited by " + i);
                                snaps[i] = fork.Snapshot("agent " + i + " done", new[] { "agent-" + i });
                                Assert.AreEqual(2, fork.History().Count); // ... each fork snapshots its own line
                            }
                        }
                        catch (Exception e)
                        {
                            errors.Enqueue(e);
                        }
                    })).ToList();
                    threads.ForEach(t => t.Start());
                    start.Set();
                    threads.ForEach(t => t.Join());
                }
                Assert.IsEmpty(errors, string.Join("\n", errors.Select(e => e.ToString())));
                Assert.AreEqual(16, snaps.Count);
                Assert.AreEqual(17, ws.Worktrees().Count);
                Assert.AreEqual(17, ws.History(all: true).Count);
                foreach (var kv in snaps)
                {
                    Assert.AreEqual(baseSnap.Id, kv.Value.ParentId);
                    Assert.AreEqual("agent-" + kv.Key, kv.Value.Worktree);
                    Assert.AreEqual("edited by " + kv.Key,
                                    Read(Path.Combine(ws.RepoRoot, "worktrees", "agent-" + kv.Key, "shared.txt")));
                }
                Assert.AreEqual("base", Read(Path.Combine(ws.Path, "shared.txt")));
                Assert.IsTrue(ws.Verify().Ok);
            }
        }

        [Test]
        public void WritersToOneWorktreeTakeTurns()
        {
            using (var ws = NewRepo())
            {
                Write(Path.Combine(ws.Path, "a"), "a");
                var errors = new ConcurrentQueue<Exception>();
                var threads = Enumerable.Range(0, 8).Select(i => new Thread(() =>
                {
                    try
                    {
                        ws.Snapshot("turn " + i);
                    }
                    catch (Exception e)
                    {
                        errors.Enqueue(e);
                    }
                })).ToList();
                threads.ForEach(t => t.Start());
                threads.ForEach(t => t.Join());
                Assert.IsEmpty(errors);
                var history = ws.History();
                Assert.AreEqual(8, history.Count);
                for (var i = 0; i + 1 < history.Count; i++) Assert.AreEqual(history[i + 1].Id, history[i].ParentId);
            }
        }

        [Test]
        public void DisposeWaitsForTheCallInFlight()
        {
            var ws = NewRepo();
            Write(Path.Combine(ws.Path, "a"), "a");
            Snapshot done;
            using (var call = new PausedCall(progress => ws.Snapshot("in flight", progress: progress)))
            {
                ws.Dispose(); // the handle is closed once the snapshot returns, not under it
                Assert.IsTrue(ws.IsDisposed);
                call.Finish();
                Assert.IsNull(call.Error);
                done = (Snapshot)call.Result;
            }
            Assert.AreEqual("in flight", done.Note);
            Assert.Throws<WorkspaceClosedException>(() => ws.History());
            using (var again = Workspace.Open(Path.Combine(Tmp, "repo")))
                Assert.AreEqual(done, again.CurrentSnapshot);
        }
    }
}
