// Every method of Workspace, Snapshot and the result types, on real repositories.
using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Newtonsoft.Json.Linq;
using NUnit.Framework;

namespace Jvs.Tests
{
    [TestFixture]
    public class WorkspaceTests : Fixture
    {
        [Test]
        public void InitCreatesARepositoryWithItsMainWorktree()
        {
            using (var ws = NewRepo())
            {
                var root = Path.Combine(Tmp, "repo");
                Assert.AreEqual("main", ws.WorktreeName);
                Assert.AreEqual(Path.Combine(root, "main"), ws.Path);
                Assert.AreEqual(root, ws.RepoRoot);
                Assert.IsTrue(Directory.Exists(Path.Combine(root, ".jvs")));
                Assert.IsTrue(Regex.IsMatch(ws.RepoId, "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"));
                Assert.IsNull(ws.CurrentSnapshot);
                Assert.IsEmpty(ws.History());
                Assert.IsFalse(ws.IsDisposed);
                StringAssert.Contains(ws.Path, ws.ToString());
            }
        }

        [Test]
        public void InitTakesARepositoryName()
        {
            using (var ws = Workspace.Init(Path.Combine(Tmp, "named"), "studio-assets"))
                Assert.AreEqual("main", ws.WorktreeName);
        }

        [Test]
        public void InitChoosesTheLayout()
        {
            // A folder with files is adopted in place by default; adopt: false keeps the standard
            // layout beside them, adopt: true adopts even an empty one.
            var project = Path.Combine(Tmp, "project");
            Directory.CreateDirectory(project);
            File.WriteAllText(Path.Combine(project, "scene.txt"), "level 1");
            using (var ws = Workspace.Init(project))
                Assert.AreEqual(Path.GetFullPath(project), ws.Path);
            var beside = Path.Combine(Tmp, "beside");
            Directory.CreateDirectory(beside);
            File.WriteAllText(Path.Combine(beside, "scene.txt"), "level 1");
            using (var ws = Workspace.Init(beside, null, false))
            {
                Assert.AreEqual(Path.Combine(Path.GetFullPath(beside), "main"), ws.Path);
                Assert.IsTrue(File.Exists(Path.Combine(beside, "scene.txt")));
            }
            var empty = Path.Combine(Tmp, "empty");
            using (var ws = Workspace.Init(empty, null, true))
                Assert.AreEqual(Path.GetFullPath(empty), ws.Path);
        }

        [Test]
        public void OpenAcceptsAnyPathInsideAWorktree()
        {
            using (var ws = NewRepo())
            {
                var deep = Path.Combine(ws.Path, "Assets", "Scenes");
                Directory.CreateDirectory(deep);
                using (var again = Workspace.Open(deep))
                {
                    Assert.AreEqual("main", again.WorktreeName);
                    Assert.AreEqual(ws.Path, again.Path);
                    Assert.AreEqual(ws.RepoId, again.RepoId);
                }
                using (var fromRoot = Workspace.Open(ws.RepoRoot))
                    Assert.AreEqual(ws.Path, fromRoot.Path);
                using (var fork = ws.CreateWorktree("side"))
                using (var byName = Workspace.Open(ws.RepoRoot, "side"))
                    Assert.AreEqual(fork.Path, byName.Path);
            }
        }

        [Test]
        public void SnapshotReturnsItsDescriptor()
        {
            using (var ws = NewRepo())
            {
                Write(Path.Combine(ws.Path, "scene.unity"), "v1");
                var before = DateTimeOffset.UtcNow.AddSeconds(-5);
                var first = ws.Snapshot("first", new[] { "v1", "release" });
                Assert.IsTrue(Regex.IsMatch(first.Id, @"^\d{13}-[0-9a-f]{8}$"), first.Id);
                Assert.AreEqual("first", first.Note);
                CollectionAssert.AreEqual(new[] { "v1", "release" }, first.Tags);
                Assert.IsNull(first.ParentId);
                Assert.AreEqual("main", first.Worktree);
                Assert.AreEqual("copy", first.Engine);
                Assert.AreEqual(64, first.PayloadRootHash.Length);
                Assert.IsEmpty(first.PartialPaths);
                Assert.That(first.CreatedAt, Is.GreaterThan(before).And.LessThan(DateTimeOffset.UtcNow.AddSeconds(5)));
                Assert.AreEqual(TimeSpan.Zero, first.CreatedAt.Offset);

                var json = JObject.Parse(first.ToJson());
                Assert.AreEqual(first.Id, (string)json["snapshot_id"]);
                Assert.AreEqual(first.PayloadRootHash, (string)json["payload_root_hash"]);

                Write(Path.Combine(ws.Path, "scene.unity"), "v2");
                var second = ws.Snapshot("second");
                Assert.AreEqual(first.Id, second.ParentId);
                Assert.IsEmpty(second.Tags);
                Assert.AreEqual(second, ws.CurrentSnapshot);
                Assert.AreEqual(second.GetHashCode(), ws.Resolve(second.Id).GetHashCode());
            }
        }

        [Test]
        public void SnapshotOfSomePaths()
        {
            using (var ws = NewRepo())
            {
                Write(Path.Combine(ws.Path, "Assets", "a.txt"), "a");
                Write(Path.Combine(ws.Path, "Library", "cache.bin"), "big");
                // relative, and absolute inside the worktree
                var partial = ws.Snapshot("assets only", null, new[] { Path.Combine(ws.Path, "Assets") });
                CollectionAssert.AreEqual(new[] { "Assets" }, partial.PartialPaths);
                Write(Path.Combine(ws.Path, "Assets", "a.txt"), "changed");
                Write(Path.Combine(ws.Path, "Library", "cache.bin"), "changed too");
                ws.Restore(partial);
                Assert.AreEqual("a", Read(Path.Combine(ws.Path, "Assets", "a.txt")));
                Assert.AreEqual("changed too", Read(Path.Combine(ws.Path, "Library", "cache.bin")));
                var second = ws.Snapshot("relative", paths: new[] { "Library/cache.bin" });
                CollectionAssert.AreEqual(new[] { "Library/cache.bin" }, second.PartialPaths);
            }
        }

        [Test]
        public void RestoreInPlaceByReferenceOrSnapshot()
        {
            using (var ws = NewRepo())
            {
                var file = Path.Combine(ws.Path, "level.txt");
                Write(file, "one");
                var one = ws.Snapshot("one", new[] { "one" });
                Write(file, "two");
                Write(Path.Combine(ws.Path, "new.txt"), "new");
                var two = ws.Snapshot("two");

                var plan = ws.Restore("one", dryRun: true);
                Assert.IsTrue(plan.DryRun);
                Assert.AreEqual("two", Read(file)); // a dry run touches nothing
                CollectionAssert.AreEquivalent(new[] { "update level.txt", "delete new.txt" },
                                               plan.Changes.Select(c => c.ToString()).ToArray());

                var res = ws.Restore("one");
                Assert.AreEqual(one.Id, res.SnapshotId);
                Assert.AreEqual("main", res.Worktree);
                Assert.AreEqual("tag", res.MatchedBy);
                Assert.IsTrue(res.Detached);
                Assert.IsFalse(res.DryRun);
                Assert.IsFalse(res.Partial);
                Assert.AreEqual("copy", res.Engine);
                Assert.AreEqual(1, res.Updated);
                Assert.AreEqual(1, res.Deleted);
                Assert.AreEqual(0, res.Created);
                Assert.AreEqual(3, res.BytesWritten);
                Assert.AreEqual("one", Read(file));
                Assert.IsFalse(File.Exists(Path.Combine(ws.Path, "new.txt")));
                Assert.AreEqual(one, ws.CurrentSnapshot);
                Assert.IsTrue(ws.Worktree.Detached);

                var back = ws.Restore(two);
                Assert.AreEqual(two.Id, back.SnapshotId);
                Assert.IsFalse(back.Detached);
                Assert.AreEqual(0, back.Unchanged);
                Assert.AreEqual("two", Read(file));
                Assert.Throws<ArgumentNullException>(() => ws.Restore((string)null));
            }
        }

        [Test]
        public void HistoryFilters()
        {
            using (var ws = NewRepo())
            {
                for (var i = 0; i < 5; i++)
                {
                    Write(Path.Combine(ws.Path, "f.txt"), i.ToString());
                    ws.Snapshot("build " + i, i % 2 == 0 ? new[] { "even" } : null);
                }
                var all = ws.History();
                CollectionAssert.AreEqual(new[] { "build 4", "build 3", "build 2", "build 1", "build 0" },
                                          all.Select(s => s.Note).ToArray());
                Assert.AreEqual(2, ws.History(limit: 2).Count);
                CollectionAssert.AreEqual(new[] { "build 4", "build 2", "build 0" },
                                          ws.History(tag: "even").Select(s => s.Note).ToArray());
                CollectionAssert.AreEqual(new[] { "build 3" }, ws.History(grep: "3").Select(s => s.Note).ToArray());

                using (var fork = ws.Fork("other", all[2].Id))
                {
                    Write(Path.Combine(fork.Path, "f.txt"), "fork");
                    fork.Snapshot("on the fork");
                    Assert.AreEqual(4, fork.History().Count); // its line: the fork's snapshot + builds 2,1,0
                    Assert.AreEqual(6, ws.History(all: true).Count);
                }
            }
        }

        [Test]
        public void ResolveFollowsTheReferenceRules()
        {
            using (var ws = NewRepo())
            {
                Write(Path.Combine(ws.Path, "a"), "1");
                var a = ws.Snapshot("alpha", new[] { "v1.0" });
                Write(Path.Combine(ws.Path, "a"), "2");
                var b = ws.Snapshot("beta");
                Assert.AreEqual(b, ws.Resolve("HEAD"));
                Assert.AreEqual(a, ws.Resolve("HEAD~1"));
                Assert.AreEqual(a, ws.Resolve("v1.0"));
                Assert.AreEqual(a, ws.Resolve(a.Id.Substring(0, 20)));
                Assert.AreEqual(b, ws.Resolve("bet"));
            }
        }

        [Test]
        public void ForkCreatesAParallelWorktree()
        {
            using (var ws = NewRepo())
            {
                Write(Path.Combine(ws.Path, "a.txt"), "base");
                var baseSnap = ws.Snapshot("base");
                using (var fork = ws.Fork("experiment"))
                {
                    Assert.AreEqual("experiment", fork.WorktreeName);
                    Assert.AreEqual(Path.Combine(ws.RepoRoot, "worktrees", "experiment"), fork.Path);
                    Assert.AreEqual("base", Read(Path.Combine(fork.Path, "a.txt")));
                    Assert.AreEqual(baseSnap, fork.CurrentSnapshot);
                    Write(Path.Combine(fork.Path, "a.txt"), "changed on the fork");
                    var s = fork.Snapshot("fork work");
                    Assert.AreEqual(baseSnap.Id, s.ParentId);
                    Assert.AreEqual("experiment", s.Worktree);
                    Assert.AreEqual("base", Read(Path.Combine(ws.Path, "a.txt"))); // main untouched
                }
                using (var unnamed = ws.Fork(null))
                    StringAssert.StartsWith("fork-", unnamed.WorktreeName);
            }
        }

        [Test]
        public void WorktreesAreListedRenamedAndRemoved()
        {
            using (var ws = NewRepo())
            {
                Write(Path.Combine(ws.Path, "a.txt"), "a");
                var s = ws.Snapshot("s");
                using (var empty = ws.CreateWorktree("empty"))
                {
                    Assert.IsEmpty(Directory.GetFileSystemEntries(empty.Path));
                    Assert.IsNull(empty.CurrentSnapshot);
                }
                using (var filled = ws.CreateWorktree("filled", s.Id))
                    Assert.AreEqual("a", Read(Path.Combine(filled.Path, "a.txt")));

                var names = ws.Worktrees().Select(w => w.Name).ToArray();
                CollectionAssert.AreEqual(new[] { "empty", "filled", "main" }, names);
                var main = ws.Worktree;
                Assert.AreEqual("main", main.Name);
                Assert.AreEqual(ws.Path, main.Path);
                Assert.AreEqual(s.Id, main.HeadSnapshotId);
                Assert.AreEqual(s.Id, main.LatestSnapshotId);
                Assert.IsNull(main.BaseSnapshotId);
                Assert.IsFalse(main.Detached);
                Assert.That(main.CreatedAt, Is.GreaterThan(DateTimeOffset.UtcNow.AddMinutes(-5)));
                Assert.AreEqual(Path.Combine(ws.RepoRoot, "worktrees", "filled"), ws.WorktreePath("filled"));
                Assert.AreEqual(ws.Path, ws.WorktreePath(null));

                var renamed = ws.RenameWorktree("filled", "kept");
                Assert.AreEqual("kept", renamed.Name);
                Assert.AreEqual(s.Id, renamed.BaseSnapshotId);
                ws.RemoveWorktree("empty");
                ws.RemoveWorktree("kept", force: true);
                CollectionAssert.AreEqual(new[] { "main" }, ws.Worktrees().Select(w => w.Name).ToArray());
                Assert.AreEqual(1, ws.History(all: true).Count); // snapshots are kept
            }
        }

        [Test]
        public void DiffAgainstTheLiveFilesAndBetweenSnapshots()
        {
            using (var ws = NewRepo())
            {
                Write(Path.Combine(ws.Path, "keep.txt"), "k");
                Write(Path.Combine(ws.Path, "edit.txt"), "1");
                Write(Path.Combine(ws.Path, "gone.txt"), "g");
                var a = ws.Snapshot("a");
                Assert.IsTrue(ws.Diff().IsEmpty);

                Write(Path.Combine(ws.Path, "edit.txt"), "22");
                File.Delete(Path.Combine(ws.Path, "gone.txt"));
                Write(Path.Combine(ws.Path, "added.txt"), "n");
                var live = ws.Diff();
                Assert.AreEqual(a.Id, live.FromSnapshotId);
                Assert.AreEqual("main", live.ToWorktree);
                Assert.IsNull(live.ToSnapshotId);
                CollectionAssert.AreEqual(new[] { "added.txt" }, live.Added.Select(e => e.Path).ToArray());
                CollectionAssert.AreEqual(new[] { "gone.txt" }, live.Removed.Select(e => e.Path).ToArray());
                Assert.AreEqual("edit.txt", live.Modified.Single().Path);
                Assert.AreEqual("content", live.Modified.Single().Change);
                Assert.AreEqual("file", live.Modified.Single().Type);

                var b = ws.Snapshot("b");
                var between = ws.Diff(a.Id, b.Id, stat: true);
                Assert.AreEqual(b.Id, between.ToSnapshotId);
                Assert.AreEqual(1, between.TotalAdded);
                Assert.AreEqual(1, between.TotalRemoved);
                Assert.AreEqual(1, between.TotalModified);
                Assert.IsEmpty(between.Added); // stat: totals only
            }
        }

        [Test]
        public void VerifyFindsTamperingWithoutThrowing()
        {
            using (var ws = NewRepo())
            {
                Write(Path.Combine(ws.Path, "asset.bin"), "original");
                var s = ws.Snapshot("s");
                var ok = ws.Verify();
                Assert.IsTrue(ok.Ok);
                Assert.IsTrue(ok.PayloadChecked);
                Assert.IsTrue(ok.AuditOk);
                Assert.AreEqual(s.Id, ok.Results.Single().SnapshotId);
                Assert.IsTrue(ok.Results.Single().ChecksumValid);
                Assert.IsEmpty(ok.Failures);
                Assert.IsFalse(ws.Verify(s.Id, payload: false).PayloadChecked);

                File.WriteAllText(Path.Combine(ws.RepoRoot, ".jvs", "snapshots", s.Id, "asset.bin"), "tampered");
                var bad = ws.Verify(s.Id);
                Assert.IsFalse(bad.Ok);
                var failure = bad.Failures.Single();
                Assert.AreEqual("E_PAYLOAD_HASH_MISMATCH", failure.Code);
                Assert.IsTrue(failure.TamperDetected);
                Assert.IsFalse(failure.PayloadHashValid);
                Assert.IsNotNull(failure.Error);
            }
        }

        [Test]
        public void InfoDescribesTheRepository()
        {
            using (var ws = NewRepo())
            {
                Write(Path.Combine(ws.Path, "a"), "a");
                ws.Snapshot("s");
                var info = ws.Info();
                Assert.AreEqual(ws.RepoId, info.RepoId);
                Assert.AreEqual(ws.RepoRoot, info.RepoRoot);
                Assert.AreEqual(1, info.FormatVersion);
                Assert.AreEqual(1, info.TotalSnapshots);
                Assert.AreEqual(1, info.TotalWorktrees);
                Assert.AreEqual(Native.Version, info.Version);
                Assert.IsNotEmpty(info.Engine);
                Assert.IsNotEmpty(info.EngineSource);
                Assert.AreEqual("info", (string)JObject.Parse(info.ToJson())["kind"]);
            }
        }

        [Test]
        public void NativeCallReachesEveryOperation()
        {
            using (var ws = NewRepo())
            {
                Write(Path.Combine(ws.Path, "a"), "a");
                ws.Snapshot("s");
                var set = JObject.Parse(ws.Native.Call("config_set", "{\"key\":\"default_tags\",\"value\":\"nightly\"}"));
                Assert.AreEqual("config_value", (string)set["kind"]);
                Write(Path.Combine(ws.Path, "a"), "b");
                CollectionAssert.AreEqual(new[] { "nightly" }, ws.Snapshot("tagged by config").Tags);
                var plan = JObject.Parse(ws.Native.Call("gc_plan", null));
                Assert.AreEqual("gc_plan", (string)plan["kind"]);
                var doctor = JObject.Parse(ws.Native.Call("doctor", ""));
                Assert.IsTrue((bool)doctor["healthy"]);
                var history = JObject.Parse(ws.Native.Call("history", "{\"limit\":1}"));
                Assert.AreEqual(1, ((JArray)history["snapshots"]).Count);
            }
        }

        [Test]
        public void LockTimeoutApplies()
        {
            using (var ws = NewRepo())
            {
                ws.LockTimeoutMs = 0;
                Write(Path.Combine(ws.Path, "a"), "a");
                Assert.AreEqual("s", ws.Snapshot("s").Note);
                Assert.AreEqual(0, ws.LockTimeoutMs);
            }
        }

        [Test]
        public void NonAsciiNoteAndFileName()
        {
            using (var ws = NewRepo())
            {
                const string note = "Café — ñandú 日本語のシーン 🎮 \"quoted\" \\ tab\t";
                var dir = Path.Combine(ws.Path, "Ñandú");
                var file = Path.Combine(dir, "データ 🎮.txt");
                Write(file, "contenu été");
                var s = ws.Snapshot(note, new[] { "v1" });
                Assert.AreEqual(note, s.Note);
                Assert.AreEqual(note, ws.History().Single().Note);
                Assert.AreEqual(s, ws.Resolve("Café"));
                Directory.Delete(dir, true);
                var res = ws.Restore("HEAD");
                Assert.AreEqual("contenu été", Read(file));
                CollectionAssert.Contains(res.Changes.Select(c => c.Path).ToArray(), "Ñandú/データ 🎮.txt");
                Write(file, "changed");
                Assert.AreEqual("Ñandú/データ 🎮.txt", ws.Diff().Modified.Single().Path);
            }
        }

        [Test]
        public void DisposeClosesTheHandle()
        {
            var ws = NewRepo();
            ws.Dispose();
            Assert.IsTrue(ws.IsDisposed);
            ws.Dispose(); // idempotent
            var e = Assert.Throws<WorkspaceClosedException>(() => ws.History());
            Assert.AreEqual("E_CLOSED", e.Code);
            Assert.Throws<WorkspaceClosedException>(() => ws.Native.Call("info", null));
            Assert.Throws<WorkspaceClosedException>(() => ws.Snapshot("x", cancel: new System.Threading.CancellationTokenSource().Token));
        }
    }
}
