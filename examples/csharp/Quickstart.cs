// jvs from C#: init, snapshot, history, restore. Built by meson into build/csharp/Quickstart.exe
// and run by the C# tests (csharp/tests/LibraryTests.cs).
//   mono build/csharp/Quickstart.exe /tmp/quickstart-repo
using System;
using System.IO;
using Jvs;

public static class Quickstart
{
    public static int Main(string[] args)
    {
        var root = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "jvs-quickstart-" + Guid.NewGuid().ToString("N"));

        using (var ws = Workspace.Init(root)) // the files live in ws.Path (root/main)
        {
            var file = Path.Combine(ws.Path, "hello.txt");
            File.WriteAllText(file, "Hello, world.");
            var first = ws.Snapshot("first draft", new[] { "v1" });

            File.WriteAllText(file, "Goodbye.");
            ws.Snapshot("second draft");

            foreach (var s in ws.History())
                Console.WriteLine("{0}  {1:u}  {2}  [{3}]", s.Id, s.CreatedAt, s.Note, string.Join(",", s.Tags));

            try
            {
                ws.Restore("no-such-tag");
            }
            catch (NotFoundException e) // every error has a stable code and a hint
            {
                Console.WriteLine("{0}: {1}", e.Code, e.Hint);
            }

            var result = ws.Restore("v1"); // in place: only hello.txt is rewritten
            Console.WriteLine("restored {0} ({1} file(s) updated): {2}", result.SnapshotId, result.Updated,
                              File.ReadAllText(file));
            return File.ReadAllText(file) == "Hello, world." && result.SnapshotId == first.Id ? 0 : 1;
        }
    }
}
