//go:build !linux

package bench

import "syscall"

// serverProcAttr: only Linux can tie a child's life to its parent's.
func serverProcAttr() *syscall.SysProcAttr { return nil }
