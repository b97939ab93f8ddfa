package jvs

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every family, each produced by the real library (or by this package, for E_CLOSED).
func TestErrorFamilies(t *testing.T) {
	ctx := context.Background()
	ws := newRepo(t)
	writeFile(t, ws.Path(), "f", "1")
	s1 := mustSnapshot(t, ws, "alpha one", nil)
	writeFile(t, ws.Path(), "f", "2")
	mustSnapshot(t, ws, "alpha two", nil)

	check := func(err error, code string, family error, alsoNot ...error) *Error {
		t.Helper()
		jerr := asError(t, err, code)
		if !errors.Is(err, family) {
			t.Errorf("%s does not match %v", code, family)
		}
		for _, other := range alsoNot {
			if errors.Is(err, other) {
				t.Errorf("%s matches %v too", code, other)
			}
		}
		if !strings.Contains(err.Error(), code) {
			t.Errorf("message %q lacks the code", err)
		}
		return jerr
	}

	_, err := Open(t.TempDir())
	check(err, "E_NOT_REPO", ErrNotFound, ErrInvalidArgument)
	_, err = ws.Restore(ctx, "no-such-ref", nil)
	jerr := check(err, "E_REF_NOT_FOUND", ErrNotFound)
	if jerr.Op != "restore" || jerr.Hint == "" {
		t.Errorf("E_REF_NOT_FOUND: op %q hint %q", jerr.Op, jerr.Hint)
	}

	_, err = ws.Call(ctx, "history", map[string]any{"limit": "ten"})
	check(err, "E_OPTION_INVALID", ErrInvalidArgument, ErrInvalidName)
	_, err = ws.Fork(ctx, "bad name!", "")
	check(err, "E_NAME_INVALID", ErrInvalidName, ErrAmbiguousRef)
	if !errors.Is(err, ErrInvalidArgument) {
		t.Error("E_NAME_INVALID is not an ErrInvalidArgument")
	}
	_, err = ws.Snapshot(ctx, "x", &SnapshotOptions{Tags: []string{"-bad"}})
	check(err, "E_TAG_INVALID", ErrInvalidName)
	_, err = ws.Restore(ctx, "alpha", nil)
	jerr = check(err, "E_REF_AMBIGUOUS", ErrAmbiguousRef, ErrNotFound)
	var amb struct {
		Candidates []struct {
			SnapshotID string `json:"snapshot_id"`
		} `json:"candidates"`
	}
	if !errors.Is(err, ErrInvalidArgument) || jerr.DetailsInto(&amb) != nil || len(amb.Candidates) != 2 {
		t.Errorf("E_REF_AMBIGUOUS: %v %s", err, jerr.Details)
	}

	_, err = ws.Call(ctx, "no_such_method", nil)
	check(err, "E_METHOD_UNKNOWN", ErrUnsupported)
	_, err = ws.Call(ctx, "history", map[string]any{"bogus": 1})
	check(err, "E_OPTION_UNKNOWN", ErrUnsupported)

	_, err = Init(ws.Root())
	check(err, "E_REPO_EXISTS", ErrAlreadyExists)
	twin, err := ws.Fork(ctx, "twin", s1.ID)
	if err != nil {
		t.Fatal(err)
	}
	twin.Close()
	_, err = ws.Fork(ctx, "twin", s1.ID)
	check(err, "E_WORKTREE_EXISTS", ErrAlreadyExists)

	_, err = ws.Call(ctx, "worktree_remove", map[string]any{"name": "main"})
	check(err, "E_WORKTREE_MAIN", ErrConflict, ErrDetached)

	// E_DETACHED, E_LOCKED and E_CANCELLED are checked in their own tests.

	desc := filepath.Join(ws.Root(), ".jvs", "descriptors", s1.ID+".json")
	orig, err := os.ReadFile(desc)
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(string(orig), `"note": "alpha one"`, `"note": "forged"`, 1)
	if forged == string(orig) {
		t.Fatalf("descriptor layout changed: %s", orig)
	}
	os.WriteFile(desc, []byte(forged), 0o644)
	_, err = ws.Restore(ctx, s1.ID, nil)
	check(err, "E_CHECKSUM_MISMATCH", ErrCorrupt)
	os.WriteFile(desc, orig, 0o644)

	fv := filepath.Join(ws.Root(), ".jvs", "format_version")
	os.WriteFile(fv, []byte("99\n"), 0o644)
	_, err = Open(ws.Path())
	check(err, "E_FORMAT_UNSUPPORTED", ErrUnsupported)
	os.WriteFile(fv, []byte("garbage"), 0o644)
	_, err = Open(ws.Path())
	check(err, "E_CONFIG_CORRUPT", ErrCorrupt)
	os.WriteFile(fv, []byte("1\n"), 0o644)

	snaps := filepath.Join(ws.Root(), ".jvs", "snapshots")
	if err := os.RemoveAll(snaps); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(snaps, []byte("a file where a directory should be"), 0o644)
	writeFile(t, ws.Path(), "f", "3")
	_, err = ws.Snapshot(ctx, "cannot write", nil)
	jerr = check(err, "E_IO", ErrIO)
	var io struct {
		Call  string `json:"call"`
		Errno int    `json:"errno"`
		Path  string `json:"path"`
	}
	if jerr.DetailsInto(&io) != nil || io.Call == "" || io.Errno == 0 || io.Path == "" {
		t.Errorf("E_IO details %s", jerr.Details)
	}

	ws.Close()
	_, err = ws.Info(ctx)
	check(err, "E_CLOSED", ErrClosed)
}

func TestEveryLibraryCodeHasAFamily(t *testing.T) {
	doc, err := BuildInfo()
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		ErrorCodes []string `json:"error_codes"`
	}
	if err := json.Unmarshal(doc, &info); err != nil || len(info.ErrorCodes) == 0 {
		t.Fatalf("build_info: %v %s", err, doc)
	}
	for _, code := range info.ErrorCodes {
		if _, ok := codeFamilies[code]; !ok {
			t.Errorf("library code %s has no family", code)
		}
	}
}

// Documents the library can produce but a test cannot provoke (a bug, out of memory), and
// codes from a newer library, go through the same mapping.
func TestErrorFromDocument(t *testing.T) {
	e := errorFromDocument(-12, "JVS_E_INTERNAL", []byte(`{"schema":1,"kind":"error","error":{"status":-12,"status_name":"JVS_E_INTERNAL","code":"E_INTERNAL","message":"bug","hint":"please report this bug","op":"snapshot"}}`))
	if !errors.Is(e, ErrInternal) || e.Op != "snapshot" || e.Details != nil {
		t.Errorf("%#v", e)
	}
	e = errorFromDocument(-11, "JVS_E_NOMEM", nil)
	if !errors.Is(e, ErrOutOfMemory) || e.Code != "E_NOMEM" {
		t.Errorf("%#v", e)
	}
	e = errorFromDocument(-3, "JVS_E_NOT_FOUND", []byte(`{"schema":1,"kind":"error","error":{"status":-3,"status_name":"JVS_E_NOT_FOUND","code":"E_FROM_THE_FUTURE","message":"new","hint":"","op":"x","details":{"k":1}}}`))
	if !errors.Is(e, ErrNotFound) || errors.Is(e, ErrLocked) || e.Code != "E_FROM_THE_FUTURE" || string(e.Details) != `{"k":1}` {
		t.Errorf("unknown code: %#v", e)
	}
	e = errorFromDocument(-99, "JVS_E_UNKNOWN", []byte(`not json`))
	if e.Code != "E_ERROR" || errors.Is(e, ErrInternal) || e.Error() == "" {
		t.Errorf("garbage document: %#v", e)
	}
}
