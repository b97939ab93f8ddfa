package jvs

import (
	"context"
	"testing"
)

// The price of a cancellable context: each call opens a C handle of its own (a cheap call,
// worktree_path, shows it best).
func BenchmarkCallBackground(b *testing.B) { benchCall(b, context.Background()) }

func BenchmarkCallCancellable(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	benchCall(b, ctx)
}

func benchCall(b *testing.B, ctx context.Context) {
	ws, err := Init(b.TempDir() + "/repo")
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	for range b.N {
		if _, err := ws.Call(ctx, "worktree_path", nil); err != nil {
			b.Fatal(err)
		}
	}
}
