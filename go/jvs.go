package jvs

/*
#cgo pkg-config: jvs
#include <stdlib.h>
#include <string.h>
#include <jvs.h>

// bridge.c: casts away const and forwards to the exported Go trampoline jvsGoEvent.
extern int32_t jvsGoEventShim(const char *event_json, void *user_data);
*/
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"unsafe"
)

// ABIVersion is the libjvs ABI this package is written for; Open and Init refuse a library
// reporting another one.
const ABIVersion = 1

// Version returns the version of the loaded libjvs, e.g. "1.0.0".
func Version() string { return C.GoString(C.jvs_version_string()) }

// BuildInfo returns the loaded library's build_info document: its version, features, every
// operation with its accepted options, and every error code (docs/API_REFERENCE.md §4.13). Use
// it to detect features rather than comparing versions.
func BuildInfo() (json.RawMessage, error) {
	var out *C.char
	status := C.jvs_build_info(&out)
	doc := takeDocument(out)
	if status != C.JVS_OK {
		return nil, errorFromDocument(int(status), C.GoString(C.jvs_status_name(status)), doc)
	}
	return doc, nil
}

// openHandles counts the C handles this package holds (tests check that none leak).
var openHandles atomic.Int64

// Workspace is an open jvs repository, bound to one worktree: the one containing the path it
// was opened with (Init binds "main"). It is safe for concurrent use by many goroutines; calls
// on different worktrees run in parallel, writers to one worktree wait for each other (up to
// 30 s, then [ErrLocked]).
//
// Close it when done. A Workspace that becomes unreachable without Close is closed by the
// garbage collector, but only Close is deterministic.
type Workspace struct {
	handle   *C.jvs_repo // shared by calls whose context cannot be cancelled
	root     string      // absolute repository root
	worktree string      // bound worktree ("" when none)
	path     string      // the worktree's payload path, else root
	repoID   string

	mu     sync.Mutex     // guards closed and calls.Add
	closed bool           // set by Close; later calls fail with ErrClosed
	calls  sync.WaitGroup // calls in flight: Close waits for them
	once   sync.Once
	net    safetyNet // closes a forgotten handle
}

// repoDocument is the result of jvs_repo_init and jvs_repo_open.
type repoDocument struct {
	RepoID       string `json:"repo_id"`
	RepoRoot     string `json:"repo_root"`
	Worktree     string `json:"worktree"`
	WorktreePath string `json:"worktree_path"`
}

// Init creates a repository at path (the directory is created if missing; an existing
// repository, or a path inside one, is refused with [ErrAlreadyExists]) and opens it bound to its
// worktree "main", whose files live in path/main, or in path itself when path is an existing
// directory with files: it is then adopted in place (docs/API_REFERENCE.md, jvs_repo_init).
// [Adopt] chooses the layout instead.
func Init(path string, opts ...InitOption) (*Workspace, error) {
	o := map[string]any{}
	for _, opt := range opts {
		opt(o)
	}
	return openWorkspace("repo_init", path, o)
}

// An InitOption is an option of [Init].
type InitOption func(map[string]any)

// Adopt chooses the layout of a new repository: true versions path itself in place (worktree
// "main" is path, also when it is empty or missing), false keeps the standard layout (path/main)
// even beside existing files. Without it, an existing directory with files is adopted.
func Adopt(adopt bool) InitOption { return func(o map[string]any) { o["adopt"] = adopt } }

// Open opens the repository containing path (any path inside it), bound to the worktree that
// contains path: path/main/... is "main", path/worktrees/NAME/... is NAME. Opened at the
// repository root, operations act on "main". A path outside any repository is [ErrNotFound]
// (E_NOT_REPO).
func Open(path string) (*Workspace, error) { return openWorkspace("repo_open", path, nil) }

func openWorkspace(op, path string, opts map[string]any) (*Workspace, error) {
	if v := C.jvs_abi_version(); v != ABIVersion {
		return nil, &Error{Code: "E_UNSUPPORTED", Op: op, Status: -10, StatusName: "JVS_E_UNSUPPORTED",
			Message: fmt.Sprintf("libjvs has ABI %d, this package needs ABI %d", v, ABIVersion),
			Hint:    "install a libjvs.so.1 matching this module"}
	}
	h, doc, err := openHandle(op, path, opts)
	if err != nil {
		return nil, err
	}
	var rd repoDocument
	if err := json.Unmarshal(doc, &rd); err != nil {
		closeRepo(unsafe.Pointer(h))
		return nil, fmt.Errorf("jvs: %s: unreadable repo document: %w", op, err)
	}
	w := &Workspace{handle: h, root: rd.RepoRoot, worktree: rd.Worktree, path: rd.WorktreePath,
		repoID: rd.RepoID}
	if w.path == "" {
		w.path = w.root
	}
	w.net = armSafetyNet(w, unsafe.Pointer(h))
	return w, nil
}

// openHandle calls jvs_repo_init or jvs_repo_open with its options and returns the handle and
// its repo document.
func openHandle(op, path string, opts map[string]any) (*C.jvs_repo, []byte, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var copts *C.char
	if len(opts) > 0 {
		b, err := json.Marshal(opts)
		if err != nil {
			return nil, nil, fmt.Errorf("jvs: %s: options: %w", op, err)
		}
		copts = C.CString(string(b))
		defer C.free(unsafe.Pointer(copts))
	}
	var h *C.jvs_repo
	var out *C.char
	var status C.jvs_status
	if op == "repo_init" {
		status = C.jvs_repo_init(cpath, copts, &h, &out)
	} else {
		status = C.jvs_repo_open(cpath, copts, &h, &out)
	}
	doc := takeDocument(out)
	if status != C.JVS_OK {
		return nil, nil, errorFromDocument(int(status), C.GoString(C.jvs_status_name(status)), doc)
	}
	openHandles.Add(1)
	return h, doc, nil
}

// takeDocument copies a result document into Go memory and frees it with jvs_free.
func takeDocument(out *C.char) []byte {
	if out == nil {
		return nil
	}
	defer C.jvs_free(unsafe.Pointer(out))
	return C.GoBytes(unsafe.Pointer(out), C.int(C.strlen(out)))
}

// closeRepo releases a handle (also called by the garbage-collection safety net).
func closeRepo(h unsafe.Pointer) {
	C.jvs_repo_close((*C.jvs_repo)(h))
	openHandles.Add(-1)
}

// Path returns the absolute path of the workspace's files: its worktree's payload directory
// (the repository root when the workspace is bound to no worktree).
func (w *Workspace) Path() string { return w.path }

// Root returns the absolute path of the repository root (the directory holding .jvs).
func (w *Workspace) Root() string { return w.root }

// Worktree returns the name of the worktree the workspace is bound to ("" when none).
func (w *Workspace) Worktree() string { return w.worktree }

// RepoID returns the repository's UUID.
func (w *Workspace) RepoID() string { return w.repoID }

// Close waits for the calls still running on the workspace, then releases its handle. Calls
// made after Close began fail with [ErrClosed]. Closing again does nothing and returns nil.
// Close must not be called from a Progress function of a call on the same workspace.
func (w *Workspace) Close() error {
	w.once.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		w.calls.Wait()
		w.net.disarm(w)
		closeRepo(unsafe.Pointer(w.handle))
	})
	return nil
}

// acquire counts a call in and returns the handle it runs on and the function that releases
// it. jvs_repo_interrupt cancels every call running on a handle, so a call whose context can
// be cancelled gets a handle of its own (cheap: no open files, no lock) and cancelling it
// never disturbs the workspace's other calls; the others share the workspace's handle.
func (w *Workspace) acquire(ctx context.Context, op string) (*C.jvs_repo, func(), error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, nil, closedError(op, w.path)
	}
	w.calls.Add(1)
	w.mu.Unlock()
	if ctx.Done() == nil {
		return w.handle, w.calls.Done, nil
	}
	var opts map[string]any
	if w.worktree != "" {
		opts = map[string]any{"worktree": w.worktree}
	}
	h, _, err := openHandle("repo_open", w.root, opts)
	if err != nil {
		w.calls.Done()
		return nil, nil, err
	}
	return h, func() { closeRepo(unsafe.Pointer(h)); w.calls.Done() }, nil
}

// Call runs any libjvs operation by name (the methods jvs_build_info lists: "gc_plan",
// "doctor", "config_set", ...) with params marshalled to a JSON object (nil: all defaults) and
// returns its result document. It is how operations without a typed method are reached; see
// docs/API_REFERENCE.md §4 for every method's options and result.
func (w *Workspace) Call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	return w.call(ctx, method, params, nil)
}

// call runs one operation through jvs_call with cancellation and progress wired up.
func (w *Workspace) call(ctx context.Context, method string, params any, progress func(Event) error) (json.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, cancelledError(method, err, nil)
	}
	var opts []byte
	if params != nil {
		var err error
		if opts, err = json.Marshal(params); err != nil {
			return nil, fmt.Errorf("jvs: %s: params: %w", method, err)
		}
	}
	h, release, err := w.acquire(ctx, method)
	if err != nil {
		return nil, err
	}
	defer release()
	cmethod := C.CString(method)
	defer C.free(unsafe.Pointer(cmethod))
	var copts *C.char
	if opts != nil {
		copts = C.CString(string(opts))
		defer C.free(unsafe.Pointer(copts))
	}

	state := &callState{ctx: ctx, progress: progress}
	var cb C.jvs_event_cb
	var ud unsafe.Pointer
	if progress != nil || ctx.Done() != nil {
		handle := cgo.NewHandle(state)
		defer handle.Delete()
		cb, ud = C.jvs_event_cb(C.jvsGoEventShim), unsafe.Pointer(&handle)
	}
	// A cancelled context interrupts this call's handle from another goroutine; wait for that
	// goroutine before the handle can be closed.
	var stop func() bool
	interrupted := make(chan struct{})
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { C.jvs_repo_interrupt(h); close(interrupted) })
	}
	var out *C.char
	status := C.jvs_call(h, cmethod, copts, cb, ud, &out)
	if stop != nil && !stop() {
		<-interrupted
	}
	doc := takeDocument(out)
	runtime.KeepAlive(w)
	if state.panicked {
		panic(state.panicValue) // re-raised on the caller's goroutine, never across C frames
	}
	if status == C.JVS_OK {
		return doc, nil
	}
	jerr := errorFromDocument(int(status), C.GoString(C.jvs_status_name(status)), doc)
	if jerr.Code == "E_CANCELLED" {
		if state.err != nil {
			return nil, state.err
		}
		if cerr := ctx.Err(); cerr != nil {
			return nil, cancelledError(method, cerr, jerr)
		}
	}
	return nil, jerr
}

// callState is what the event trampoline reaches through the cgo.Handle of one call.
type callState struct {
	ctx        context.Context
	progress   func(Event) error
	err        error // the first error the progress function returned
	panicked   bool
	panicValue any
}

// jvsGoEvent is the trampoline libjvs calls (through jvsGoEventShim) with each event of a call,
// synchronously on the calling thread. A non-zero return cancels the operation.
//
//export jvsGoEvent
func jvsGoEvent(eventJSON *C.char, userData unsafe.Pointer) (cancel C.int32_t) {
	state := (*(*cgo.Handle)(userData)).Value().(*callState)
	if state.err != nil || state.panicked || state.ctx.Err() != nil {
		return 1
	}
	if state.progress == nil {
		return 0
	}
	defer func() { // a panic must not unwind through C frames: stop the call, re-panic after it
		if r := recover(); r != nil {
			state.panicked, state.panicValue = true, r
			cancel = 1
		}
	}()
	raw := C.GoBytes(unsafe.Pointer(eventJSON), C.int(C.strlen(eventJSON)))
	ev := Event{Raw: raw}
	if err := json.Unmarshal(raw, &ev); err != nil {
		return 0 // not an event this package can read: skip it, as unknown kinds are
	}
	if err := state.progress(ev); err != nil {
		state.err = err
		return 1
	}
	return 0
}
