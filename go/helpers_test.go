package jvs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestMain fails the run if any test leaked a C handle.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(5 * time.Second)
		for openHandles.Load() != 0 && time.Now().Before(deadline) {
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
		}
		if n := openHandles.Load(); n != 0 {
			fmt.Fprintf(os.Stderr, "%d libjvs handles leaked\n", n)
			code = 1
		}
	}
	os.Exit(code)
}

// newRepo initialises a repository in a fresh temporary directory; it is closed after the test.
func newRepo(t *testing.T) *Workspace {
	t.Helper()
	ws, err := Init(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// writeFile writes content to dir/rel, creating parent directories.
func writeFile(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readFile returns the content of dir/rel ("<missing>" if it does not exist).
func readFile(t *testing.T, dir, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, rel))
	if errors.Is(err, os.ErrNotExist) {
		return "<missing>"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// manyFiles writes n tiny files, enough to make a snapshot last a noticeable time.
func manyFiles(t *testing.T, dir string, n int) {
	t.Helper()
	for i := 0; i < n; i += 500 {
		d := filepath.Join(dir, fmt.Sprintf("many%03d", i/500))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for j := i; j < i+500 && j < n; j++ {
			if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("f%05d", j)), []byte(fmt.Sprint(j)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// mustSnapshot snapshots or fails the test.
func mustSnapshot(t *testing.T, ws *Workspace, note string, opts *SnapshotOptions) *Snapshot {
	t.Helper()
	s, err := ws.Snapshot(context.Background(), note, opts)
	if err != nil {
		t.Fatalf("Snapshot(%q): %v", note, err)
	}
	return s
}

// asError returns err as *Error or fails the test; it also checks that the code is want.
func asError(t *testing.T, err error, want string) *Error {
	t.Helper()
	var jerr *Error
	if !errors.As(err, &jerr) {
		t.Fatalf("want *jvs.Error %s, got %T %v", want, err, err)
	}
	if jerr.Code != want {
		t.Fatalf("want code %s, got %s (%v)", want, jerr.Code, err)
	}
	if jerr.Message == "" || jerr.Status >= 0 || jerr.StatusName == "" {
		t.Fatalf("incomplete error: %#v", jerr)
	}
	return jerr
}
