// Command jvs-hook snapshots a jvs workspace from a CI step or a git hook and prints the new
// snapshot's id, so the next step can restore or fork exactly that state.
//
//	jvs-hook [-note TEXT] [-tag TAG]... [-path P]... [-timeout D] [-progress] [-json] [PATH]
//
// PATH (default ".") is any path inside the worktree to snapshot. Without -note, the note names
// the commit when the CI says which ($GITHUB_SHA, $CI_COMMIT_SHA). SIGINT and SIGTERM cancel the
// snapshot, which then publishes nothing. Exit codes are the jvs CLI's: 0 done, 1 other error,
// 2 bad input, 3 not found, 4 locked, 5 corrupt, 6 conflict or exists, 130 cancelled.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	jvs "github.com/jvs-project/jvs/go"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return fmt.Sprint(*l) }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// run is the whole command, separate from main so tests can drive it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("jvs-hook", flag.ContinueOnError)
	fs.SetOutput(stderr)
	note := fs.String("note", "", "snapshot note (default: names the CI commit, if any)")
	var tags, paths listFlag
	fs.Var(&tags, "tag", "tag to attach (repeatable)")
	fs.Var(&paths, "path", "snapshot only this path, relative to the worktree (repeatable)")
	timeout := fs.Duration("timeout", 0, "cancel the snapshot after this long (0: never)")
	progress := fs.Bool("progress", false, "report progress on stderr")
	asJSON := fs.Bool("json", false, "print the snapshot as JSON instead of its id")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: jvs-hook [flags] [PATH]\nSnapshots the jvs worktree containing PATH (default .) and prints the snapshot id.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return 2
	}
	path := "."
	if fs.NArg() == 1 {
		path = fs.Arg(0)
	}
	if *note == "" {
		*note = defaultNote(getenv)
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}

	ws, err := jvs.Open(path)
	if err != nil {
		return fail(stderr, err)
	}
	defer ws.Close()
	opts := &jvs.SnapshotOptions{Tags: tags, Paths: paths}
	if *progress {
		last := time.Time{}
		opts.Progress = func(ev jvs.Event) error {
			if ev.Kind == "progress" && (time.Since(last) > time.Second || ev.Done == ev.Total) {
				last = time.Now()
				fmt.Fprintf(stderr, "jvs-hook: %s %d/%d\n", ev.Phase, ev.Done, ev.Total)
			}
			return nil
		}
	}
	snap, err := ws.Snapshot(ctx, *note, opts)
	if err != nil {
		return fail(stderr, err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(snap)
	} else {
		fmt.Fprintln(stdout, snap.ID)
	}
	return 0
}

// defaultNote names the commit the CI is building, when it says which.
func defaultNote(getenv func(string) string) string {
	for _, v := range []string{"GITHUB_SHA", "CI_COMMIT_SHA"} {
		if sha := getenv(v); sha != "" {
			return "jvs-hook: commit " + sha
		}
	}
	return "jvs-hook"
}

// fail prints the error and returns the jvs CLI's exit code for its family.
func fail(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "jvs-hook:", err)
	switch {
	case errors.Is(err, jvs.ErrCancelled):
		return 130
	case errors.Is(err, jvs.ErrInvalidArgument), errors.Is(err, jvs.ErrUnsupported):
		return 2
	case errors.Is(err, jvs.ErrNotFound):
		return 3
	case errors.Is(err, jvs.ErrLocked):
		return 4
	case errors.Is(err, jvs.ErrCorrupt):
		return 5
	case errors.Is(err, jvs.ErrConflict), errors.Is(err, jvs.ErrAlreadyExists):
		return 6
	}
	return 1
}
