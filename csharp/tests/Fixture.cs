// Shared helpers of the NUnit tests of Jvs.dll. Every test runs against the real libjvs beside the
// test assembly (build/csharp/libjvs.so.1: the self-contained build), on real files in a fresh
// temporary directory.
using System;
using System.IO;
using System.Text;
using System.Threading;
using NUnit.Framework;

namespace Jvs.Tests
{
    public abstract class Fixture
    {
        protected string Tmp;

        [SetUp]
        public void MakeTempDir()
        {
            Tmp = Path.Combine(Path.GetTempPath(), "jvs-cs-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Tmp);
        }

        [TearDown]
        public void RemoveTempDir()
        {
            if (Directory.Exists(Tmp)) Directory.Delete(Tmp, true);
        }

        /// <summary>A new repository under Tmp, its main worktree open.</summary>
        protected Workspace NewRepo(string name = "repo")
        {
            return Workspace.Init(Path.Combine(Tmp, name));
        }

        protected static void Write(string path, string content)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path));
            File.WriteAllText(path, content, new UTF8Encoding(false));
        }

        protected static string Read(string path)
        {
            return File.ReadAllText(path, Encoding.UTF8);
        }

        /// <summary>The directory of this test assembly (Jvs.dll, libjvs.so.1, Quickstart.exe are there).</summary>
        protected static string AssemblyDir
        {
            get { return Path.GetDirectoryName(typeof(Fixture).Assembly.Location); }
        }
    }

    /// <summary>A call running on another thread, held inside its progress handler (at its first
    /// event) until <see cref="Finish"/>: so that a test can act while the call is in flight.</summary>
    public sealed class PausedCall : IDisposable
    {
        private readonly ManualResetEventSlim _inside = new ManualResetEventSlim();
        private readonly ManualResetEventSlim _gate = new ManualResetEventSlim();
        private readonly Thread _thread;

        /// <param name="call">Makes the call with the progress handler it is given.</param>
        public PausedCall(Func<IProgress<ProgressEvent>, object> call)
        {
            var handler = new Handler<ProgressEvent>(ev =>
            {
                _inside.Set();
                _gate.Wait();
            });
            _thread = new Thread(() =>
            {
                try
                {
                    Result = call(handler);
                }
                catch (Exception e)
                {
                    Error = e;
                }
                finally
                {
                    _inside.Set();
                }
            });
            _thread.Start();
            Assert.IsTrue(_inside.Wait(30000), "the call never reached its progress handler");
        }

        public object Result { get; private set; }
        public Exception Error { get; private set; }

        /// <summary>Lets the call go on and waits for it to return.</summary>
        public void Finish()
        {
            _gate.Set();
            _thread.Join();
        }

        public void Dispose()
        {
            Finish();
            _inside.Dispose();
            _gate.Dispose();
        }
    }

    /// <summary>An IProgress that runs its action synchronously (System.Progress posts to a
    /// SynchronizationContext instead).</summary>
    public sealed class Handler<T> : IProgress<T>
    {
        private readonly Action<T> _action;

        public Handler(Action<T> action) { _action = action; }

        public void Report(T value) { _action(value); }
    }
}
