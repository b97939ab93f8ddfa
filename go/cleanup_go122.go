//go:build !go1.24

package jvs

import (
	"runtime"
	"unsafe"
)

// safetyNet closes the C handle of a Workspace that became unreachable without Close (a
// finalizer: runtime.AddCleanup needs Go 1.24).
type safetyNet struct{}

func armSafetyNet(w *Workspace, h unsafe.Pointer) safetyNet {
	runtime.SetFinalizer(w, func(*Workspace) { closeRepo(h) })
	return safetyNet{}
}

func (safetyNet) disarm(w *Workspace) { runtime.SetFinalizer(w, nil) }
