// Shared helpers of the NUnit tests of Jvs.dll. Every test runs against the real libjvs beside the
// test assembly (build/csharp/libjvs.so.1: the self-contained build), on real files in a fresh
// temporary directory.
using System;
using System.IO;
using System.Text;
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

    /// <summary>An IProgress that runs its action synchronously (System.Progress posts to a
    /// SynchronizationContext instead).</summary>
    public sealed class Handler<T> : IProgress<T>
    {
        private readonly Action<T> _action;

        public Handler(Action<T> action) { _action = action; }

        public void Report(T value) { _action(value); }
    }
}
