package bench

import "syscall"

// serverProcAttr has the Temporal server process die with this one, so a test
// that times out (and skips its cleanup) leaves no server holding its port.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
