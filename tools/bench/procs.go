package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
)

// Proc is a worker running as its own process: Baton's worker binary, or this
// program's no-op worker for a baseline.
type Proc struct {
	Cmd  *exec.Cmd
	Name string
	done chan error
}

// WorkerEnv is the environment Baton's worker binary needs to run against the
// stack on queue with the policy file.
func (s *Stack) WorkerEnv(queue, policyFile string, extra ...string) []string {
	env := append(os.Environ(),
		"DATABASE_URL="+s.URL,
		"TEMPORAL_ADDRESS="+s.Server.HostPort(),
		"TEMPORAL_NAMESPACE="+s.Server.Namespace(),
		"BATON_TASK_QUEUE="+queue,
		"BATON_POLICY_FILE="+policyFile,
		"BATON_METRICS_ADDRESS=off",
		"BATON_LOG_LEVEL=error",
		"BATON_SHUTDOWN_TIMEOUT=2s",
	)
	return append(env, extra...)
}

// WritePolicy writes a built-in policy into the data directory for workers.
func (s *Stack) WritePolicy(name, doc string) (string, error) {
	path := filepath.Join(s.DataDir, name)
	return path, os.WriteFile(path, []byte(doc), 0o644)
}

// StartProc starts a worker process, its output appended to a log file in the
// data directory, and waits until it polls queue.
func (s *Stack) StartProc(ctx context.Context, name, queue string, env []string, bin string, args ...string) (*Proc, error) {
	logFile, err := os.OpenFile(filepath.Join(s.DataDir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s (%s): %w", name, bin, err)
	}
	p := &Proc{Cmd: cmd, Name: name, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); logFile.Close() }()
	err = poll(ctx, name+" polling "+queue, func() (bool, error) {
		select {
		case err := <-p.done:
			p.done <- err
			return false, fmt.Errorf("%s exited: %v (see %s)", name, err, logFile.Name())
		default:
		}
		return s.polledBy(ctx, queue, cmd.Process.Pid)
	})
	if err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
}

// polledBy reports whether the process pid polls queue for workflow tasks: SDK
// identities start with the pid.
func (s *Stack) polledBy(ctx context.Context, queue string, pid int) (bool, error) {
	resp, err := s.Client.DescribeTaskQueue(ctx, queue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return false, err
	}
	for _, p := range resp.GetPollers() {
		if strings.HasPrefix(p.GetIdentity(), strconv.Itoa(pid)+"@") {
			return true, nil
		}
	}
	return false, nil
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Proc) Kill() {
	_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	err := <-p.done
	p.done <- err
}

// Stop sends SIGTERM and waits up to ten seconds, then kills.
func (p *Proc) Stop() {
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
	case <-time.After(10 * time.Second):
		p.Kill()
	}
}

// RSS is the process's resident memory in bytes, from /proc.
func (p *Proc) RSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for %s", p.Name)
}
