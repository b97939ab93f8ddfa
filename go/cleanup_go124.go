//go:build go1.24

package jvs

import (
	"runtime"
	"unsafe"
)

// safetyNet closes the C handle of a Workspace that became unreachable without Close.
type safetyNet struct{ cleanup runtime.Cleanup }

func armSafetyNet(w *Workspace, h unsafe.Pointer) safetyNet {
	return safetyNet{runtime.AddCleanup(w, closeRepo, h)}
}

func (s safetyNet) disarm(*Workspace) { s.cleanup.Stop() }
