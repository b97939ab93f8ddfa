package jvs

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Error is a failure reported by libjvs: the "error" object of the error document every failing
// call returns. Use [errors.As] to get it and switch on Code for fine distinctions, or
// [errors.Is] with the family sentinels ([ErrNotFound], [ErrLocked], ...) for coarse ones.
//
// An Error whose call was cancelled through its context also matches that context's error
// (errors.Is(err, context.Canceled) or context.DeadlineExceeded).
type Error struct {
	// Code is the stable machine-readable code, e.g. "E_REF_NOT_FOUND" (append-only list in
	// docs/API_REFERENCE.md §8.2).
	Code string
	// Message is one line for humans; do not parse it.
	Message string
	// Hint is one line saying what to do about it ("" if none).
	Hint string
	// Details holds the code's machine-readable specifics as raw JSON (an object, or nil).
	Details json.RawMessage
	// Status is the numeric jvs_status the C call returned (JVS_E_*, negative).
	Status int
	// StatusName is its name, e.g. "JVS_E_NOT_FOUND".
	StatusName string
	// Op is the operation that failed, e.g. "restore" or "repo_open".
	Op string

	cause error // the context's error when ctx cancelled the call
}

// Error formats the failure as "jvs: op: message [CODE] (hint: ...)".
func (e *Error) Error() string {
	s := "jvs: "
	if e.Op != "" {
		s += e.Op + ": "
	}
	s += fmt.Sprintf("%s [%s]", e.Message, e.Code)
	if e.Hint != "" {
		s += " (hint: " + e.Hint + ")"
	}
	return s
}

// DetailsInto unmarshals the error's Details into v (leaving v as it is when there are none).
func (e *Error) DetailsInto(v any) error {
	if len(e.Details) == 0 {
		return nil
	}
	return json.Unmarshal(e.Details, v)
}

// Unwrap returns the context error that cancelled the call, if any.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is the family sentinel this error belongs to (a code may belong to
// two: E_DETACHED is both [ErrDetached] and [ErrConflict]). Codes this package does not know yet
// are classified by their status.
func (e *Error) Is(target error) bool {
	if fams, ok := codeFamilies[e.Code]; ok {
		for _, f := range fams {
			if f == target {
				return true
			}
		}
		return false
	}
	return statusFamilies[e.Status] == target && target != nil
}

// Family sentinels: errors.Is(err, jvs.ErrNotFound) is true for every code of that family. They
// mirror the exception classes of the Python SDK (python-cffi/src/jvs/errors.py).
var (
	// ErrInvalidArgument: a malformed argument or option (E_ARG_NULL, E_JSON_INVALID,
	// E_OPTION_INVALID, E_NOTE_INVALID, E_PATH_INVALID, E_PATH_ESCAPE), and every code of
	// ErrInvalidName and ErrAmbiguousRef.
	ErrInvalidArgument = errors.New("jvs: invalid argument")
	// ErrInvalidName: a worktree, repository or tag name breaks the naming rules (E_NAME_INVALID,
	// E_TAG_INVALID).
	ErrInvalidName = errors.New("jvs: invalid name")
	// ErrAmbiguousRef: a reference matched several snapshots (E_REF_AMBIGUOUS; the candidates are
	// in Details).
	ErrAmbiguousRef = errors.New("jvs: ambiguous reference")
	// ErrUnsupported: an unknown option or method, a newer repository format, or a special file
	// in the workspace (E_OPTION_UNKNOWN, E_METHOD_UNKNOWN, E_FORMAT_UNSUPPORTED, E_SPECIAL_FILE).
	ErrUnsupported = errors.New("jvs: unsupported")
	// ErrNotFound: no repository, worktree, snapshot or path matched (E_NOT_REPO,
	// E_NOT_WORKTREE, E_WORKTREE_NOT_FOUND, E_REF_NOT_FOUND, E_NO_SNAPSHOTS, E_PATH_NOT_FOUND).
	ErrNotFound = errors.New("jvs: not found")
	// ErrAlreadyExists: a repository or worktree of that name exists (E_REPO_EXISTS,
	// E_WORKTREE_EXISTS).
	ErrAlreadyExists = errors.New("jvs: already exists")
	// ErrConflict: the repository's state forbids the operation (E_WORKTREE_MAIN,
	// E_GC_PLAN_MISMATCH, E_PATH_CONFLICT), and E_DETACHED.
	ErrConflict = errors.New("jvs: conflict")
	// ErrDetached: the worktree's head is not its latest snapshot, so it cannot be snapshotted
	// (E_DETACHED). Restore "HEAD" to go back, or Fork to continue elsewhere.
	ErrDetached = errors.New("jvs: worktree is detached")
	// ErrLocked: another writer held the worktree lock past the timeout (E_LOCKED; the holder is
	// in Details).
	ErrLocked = errors.New("jvs: locked")
	// ErrCorrupt: repository metadata or a snapshot failed an integrity check
	// (E_CONFIG_CORRUPT, E_DESCRIPTOR_CORRUPT, E_CHECKSUM_MISMATCH, E_PAYLOAD_HASH_MISMATCH,
	// E_COMPRESSED_UNVERIFIED, E_SNAPSHOT_INCOMPLETE, E_READY_MISMATCH, E_AUDIT_CHAIN_BROKEN, E_PATH_UNSAFE).
	ErrCorrupt = errors.New("jvs: corrupt")
	// ErrIO: a filesystem call failed (E_IO, E_NO_SPACE; Details names the call, path and errno).
	ErrIO = errors.New("jvs: I/O failure")
	// ErrCancelled: the operation was cancelled and published nothing (E_CANCELLED). A call
	// cancelled through its context also matches the context's error.
	ErrCancelled = errors.New("jvs: cancelled")
	// ErrInternal: a bug in libjvs (E_INTERNAL); please report it with the error.
	ErrInternal = errors.New("jvs: internal error")
	// ErrOutOfMemory: libjvs ran out of memory (E_NOMEM).
	ErrOutOfMemory = errors.New("jvs: out of memory")
	// ErrClosed: the Workspace was closed (E_CLOSED, reported by this package itself).
	ErrClosed = errors.New("jvs: workspace closed")
)

var codeFamilies = map[string][]error{
	"E_ARG_NULL":              {ErrInvalidArgument},
	"E_JSON_INVALID":          {ErrInvalidArgument},
	"E_OPTION_INVALID":        {ErrInvalidArgument},
	"E_NOTE_INVALID":          {ErrInvalidArgument},
	"E_PATH_INVALID":          {ErrInvalidArgument},
	"E_PATH_ESCAPE":           {ErrInvalidArgument},
	"E_NAME_INVALID":          {ErrInvalidName, ErrInvalidArgument},
	"E_TAG_INVALID":           {ErrInvalidName, ErrInvalidArgument},
	"E_REF_AMBIGUOUS":         {ErrAmbiguousRef, ErrInvalidArgument},
	"E_OPTION_UNKNOWN":        {ErrUnsupported},
	"E_METHOD_UNKNOWN":        {ErrUnsupported},
	"E_FORMAT_UNSUPPORTED":    {ErrUnsupported},
	"E_SPECIAL_FILE":          {ErrUnsupported},
	"E_NOT_REPO":              {ErrNotFound},
	"E_NOT_WORKTREE":          {ErrNotFound},
	"E_WORKTREE_NOT_FOUND":    {ErrNotFound},
	"E_REF_NOT_FOUND":         {ErrNotFound},
	"E_NO_SNAPSHOTS":          {ErrNotFound},
	"E_PATH_NOT_FOUND":        {ErrNotFound},
	"E_REPO_EXISTS":           {ErrAlreadyExists},
	"E_WORKTREE_EXISTS":       {ErrAlreadyExists},
	"E_WORKTREE_MAIN":         {ErrConflict},
	"E_GC_PLAN_MISMATCH":      {ErrConflict},
	"E_PATH_CONFLICT":         {ErrConflict},
	"E_DETACHED":              {ErrDetached, ErrConflict},
	"E_LOCKED":                {ErrLocked},
	"E_CONFIG_CORRUPT":        {ErrCorrupt},
	"E_DESCRIPTOR_CORRUPT":    {ErrCorrupt},
	"E_CHECKSUM_MISMATCH":     {ErrCorrupt},
	"E_PAYLOAD_HASH_MISMATCH": {ErrCorrupt},
	"E_COMPRESSED_UNVERIFIED": {ErrCorrupt},
	"E_SNAPSHOT_INCOMPLETE":   {ErrCorrupt},
	"E_READY_MISMATCH":        {ErrCorrupt},
	"E_AUDIT_CHAIN_BROKEN":    {ErrCorrupt},
	"E_PATH_UNSAFE":           {ErrCorrupt},
	"E_IO":                    {ErrIO},
	"E_NO_SPACE":              {ErrIO},
	"E_CANCELLED":             {ErrCancelled},
	"E_INTERNAL":              {ErrInternal},
	"E_NOMEM":                 {ErrOutOfMemory},
	"E_CLOSED":                {ErrClosed},
}

// statusFamilies classifies a code this package does not know by its jvs_status (codes are
// append-only; statuses are too, and an unknown status matches no family).
var statusFamilies = map[int]error{
	-2:  ErrInvalidArgument,
	-3:  ErrNotFound,
	-4:  ErrAlreadyExists,
	-5:  ErrLocked,
	-6:  ErrConflict,
	-7:  ErrCorrupt,
	-8:  ErrIO,
	-9:  ErrCancelled,
	-10: ErrUnsupported,
	-11: ErrOutOfMemory,
	-12: ErrInternal,
}

// errorDocument is the shape of every error document libjvs returns.
type errorDocument struct {
	Kind  string `json:"kind"`
	Error *struct {
		Status     *int            `json:"status"`
		StatusName string          `json:"status_name"`
		Code       string          `json:"code"`
		Message    string          `json:"message"`
		Hint       string          `json:"hint"`
		Op         string          `json:"op"`
		Details    json.RawMessage `json:"details"`
	} `json:"error"`
}

// errorFromDocument builds the *Error for a failing call's status and document (nil only for
// JVS_E_NOMEM, the one status allowed to come without a document).
func errorFromDocument(status int, statusName string, doc []byte) *Error {
	var d errorDocument
	if len(doc) == 0 || json.Unmarshal(doc, &d) != nil || d.Error == nil {
		if status == -11 {
			return &Error{Code: "E_NOMEM", Message: "libjvs ran out of memory", Status: status,
				StatusName: statusName}
		}
		return &Error{Code: "E_ERROR", Status: status, StatusName: statusName,
			Message: fmt.Sprintf("libjvs failed with status %d (%s) and no readable error document", status, statusName)}
	}
	e := d.Error
	out := &Error{Code: e.Code, Message: e.Message, Hint: e.Hint, Op: e.Op, Details: e.Details,
		Status: status, StatusName: e.StatusName}
	if e.Status != nil {
		out.Status = *e.Status
	}
	if out.StatusName == "" {
		out.StatusName = statusName
	}
	if out.Code == "" {
		out.Code = "E_ERROR"
	}
	if out.Message == "" {
		out.Message = out.Code
	}
	if len(out.Details) == 0 || string(out.Details) == "null" {
		out.Details = nil
	}
	return out
}

// closedError is what every method of a closed Workspace returns.
func closedError(op, path string) *Error {
	return &Error{Code: "E_CLOSED", Message: "the workspace " + path + " is closed", Status: -1,
		StatusName: "JVS_E_ERROR", Op: op, Hint: "open it again with jvs.Open"}
}

// cancelledError is what a call returns when its context was done (before or during the call):
// an E_CANCELLED *Error that also unwraps to the context's error.
func cancelledError(op string, cause error, lib *Error) *Error {
	if lib != nil && lib.Code == "E_CANCELLED" {
		e := *lib
		e.cause = cause
		return &e
	}
	return &Error{Code: "E_CANCELLED", Message: op + " was cancelled: " + cause.Error(), Status: -9,
		StatusName: "JVS_E_CANCELLED", Op: op, Hint: "nothing was started; run it again when ready",
		cause: cause}
}
