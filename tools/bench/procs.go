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
	log  string // where its output goes
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
	p, err := spawn(filepath.Join(s.DataDir, name+".log"), name, env, nil, bin, args...)
	if err != nil {
		return nil, err
	}
	if err := p.waitReady(ctx, name+" polling "+queue, 0, func() (bool, error) {
		return s.polledBy(ctx, queue, p.Cmd.Process.Pid)
	}); err != nil {
		return nil, err
	}
	return p, nil
}

// spawn starts bin with args, env (nil: this process's) and attr (nil: none),
// its output appended to logPath.
func spawn(logPath, name string, env []string, attr *syscall.SysProcAttr, bin string, args ...string) (*Proc, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr, cmd.SysProcAttr = env, logFile, logFile, attr
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s (%s): %w", name, bin, err)
	}
	p := &Proc{Cmd: cmd, Name: name, log: logPath, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); logFile.Close() }()
	return p, nil
}

// waitReady asks ready every every (0: backing off, as poll) until it holds,
// failing at once if the process exits; on failure the process is killed.
func (p *Proc) waitReady(ctx context.Context, what string, every time.Duration, ready func() (bool, error)) error {
	err := pollEvery(ctx, what, every, func() (bool, error) {
		select {
		case err := <-p.done:
			p.done <- err
			return false, fmt.Errorf("%s exited: %v (see %s)", p.Name, err, p.log)
		default:
		}
		return ready()
	})
	if err != nil {
		p.Kill()
	}
	return err
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
func (p *Proc) Stop() { p.stopWithin(10 * time.Second) }

// stopWithin sends SIGTERM and waits up to d, then kills.
func (p *Proc) stopWithin(d time.Duration) {
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
	case <-time.After(d):
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
