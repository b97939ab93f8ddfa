// Window > jvs: snapshot the project's Assets folder and restore it from a snapshot, in place.
// The project must live inside a jvs worktree (see the package README). Cannot be compiled or run
// outside the Unity editor: it is not part of the tested Jvs.dll.
using System;
using System.Collections.Generic;
using System.Linq;
using UnityEditor;
using UnityEditor.SceneManagement;
using UnityEngine;

namespace Jvs.Editor
{
    public sealed class JvsWindow : EditorWindow
    {
        private string _note = "";
        private IReadOnlyList<Snapshot> _history = new List<Snapshot>();
        private string _status = "";
        private Vector2 _scroll;

        [MenuItem("Window/jvs")]
        public static void ShowWindow() { GetWindow<JvsWindow>("jvs").Reload(); }

        [MenuItem("Tools/jvs/Snapshot Assets")]
        public static void QuickSnapshot() { GetWindow<JvsWindow>("jvs").SnapshotAssets("snapshot " + DateTime.Now.ToString("u")); }

        private void OnEnable() { Reload(); }

        private void OnGUI()
        {
            EditorGUILayout.LabelField("Assets folder", Application.dataPath);
            _note = EditorGUILayout.TextField("Note", _note);
            using (new EditorGUILayout.HorizontalScope())
            {
                if (GUILayout.Button("Snapshot Assets")) SnapshotAssets(_note);
                if (GUILayout.Button("Refresh", GUILayout.Width(80))) Reload();
            }
            if (_status.Length > 0) EditorGUILayout.HelpBox(_status, MessageType.Info);
            _scroll = EditorGUILayout.BeginScrollView(_scroll);
            foreach (var s in _history)
            {
                using (new EditorGUILayout.HorizontalScope())
                {
                    EditorGUILayout.LabelField(s.CreatedAt.ToLocalTime().ToString("g"), GUILayout.Width(130));
                    EditorGUILayout.LabelField(s.Note + (s.Tags.Count > 0 ? "  [" + string.Join(", ", s.Tags) + "]" : ""));
                    if (GUILayout.Button("Restore", GUILayout.Width(70))) RestoreAssets(s);
                }
            }
            EditorGUILayout.EndScrollView();
        }

        private void Reload()
        {
            Run(ws => { _history = ws.History(limit: 100); });
        }

        private void SnapshotAssets(string note)
        {
            AssetDatabase.SaveAssets(); // what is on disk is what gets snapshotted
            Run(ws =>
            {
                var s = ws.Snapshot(note, paths: new[] { Application.dataPath }, progress: Bar("Snapshotting Assets"));
                _status = "Snapshot " + s.Id + " taken.";
                _note = "";
                _history = ws.History(limit: 100);
            });
        }

        private void RestoreAssets(Snapshot s)
        {
            if (!EditorSceneManager.SaveCurrentModifiedScenesIfUserWantsTo()) return;
            if (!EditorUtility.DisplayDialog("Restore Assets", "Make the Assets folder exactly what it was in '" +
                                             s + "'? Unsnapshotted changes are lost.", "Restore", "Cancel"))
                return;
            Run(ws =>
            {
                var r = ws.Restore(s, progress: Bar("Restoring Assets"));
                _status = "Restored " + r.SnapshotId + ": " + r.Changes.Count + " change(s)." +
                          (r.Detached ? " The worktree is now detached: restore the newest snapshot (HEAD) before taking new ones." : "");
            });
            AssetDatabase.Refresh();
        }

        /// <summary>Runs f on the workspace holding the project, turning jvs errors into messages.</summary>
        private void Run(Action<Workspace> f)
        {
            try
            {
                using (var ws = Workspace.Open(Application.dataPath))
                    f(ws);
            }
            catch (DetachedException e)
            {
                _status = e.Message + " — " + e.Hint;
            }
            catch (NotFoundException e) when (e.Code == "E_NOT_REPO")
            {
                _status = "This project is not inside a jvs worktree. Create a repository (jvs init <dir>) and " +
                          "move the project into <dir>/main, then reopen it.";
            }
            catch (OperationCanceledException)
            {
                _status = "Cancelled: nothing was changed.";
            }
            catch (JvsException e)
            {
                _status = e.Message + (e.Hint.Length > 0 ? " — " + e.Hint : "") + " [" + e.Code + "]";
            }
            finally
            {
                EditorUtility.ClearProgressBar();
                Repaint();
            }
        }

        private static IProgress<ProgressEvent> Bar(string title)
        {
            return new EditorProgress(title);
        }

        private sealed class EditorProgress : IProgress<ProgressEvent>
        {
            private readonly string _title;

            public EditorProgress(string title) { _title = title; }

            // Runs synchronously on the editor's main thread, inside the call.
            public void Report(ProgressEvent e)
            {
                var fraction = e.Total > 0 ? (float)e.Done / e.Total : 0f;
                if (EditorUtility.DisplayCancelableProgressBar(_title, e.Phase + " " + e.Done + "/" + e.Total, fraction))
                    throw new OperationCanceledException("cancelled in the editor"); // cancels the operation
            }
        }
    }
}
