package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// loadProc is one decide-load process and its pipes.
type loadProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Reader
	stderr bytes.Buffer
}

// loadProcs starts a decide-load process for each argument list, waits until
// every one has warmed up, releases them together and returns what each
// did. A process that fails is reported with its standard error.
func (s *Stack) loadProcs(ctx context.Context, devBin string, args [][]string, window time.Duration) (_ []DecideLoadResult, err error) {
	ctx, cancel := context.WithTimeout(ctx, window+2*time.Minute)
	defer cancel()
	var procs []*loadProc
	defer func() {
		for _, p := range procs {
			if err != nil {
				_ = p.cmd.Process.Kill()
			}
			_ = p.cmd.Wait()
		}
	}()
	for _, a := range args {
		p := &loadProc{cmd: exec.CommandContext(ctx, devBin, append([]string{"decide-load", "--wait"}, a...)...)}
		p.cmd.Env = append(os.Environ(), "DATABASE_URL="+s.URL)
		p.cmd.Stderr, p.cmd.SysProcAttr = &p.stderr, serverProcAttr()
		if p.stdin, err = p.cmd.StdinPipe(); err != nil {
			return nil, err
		}
		stdout, err := p.cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		p.out = bufio.NewReader(stdout)
		if err := p.cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s decide-load: %w", devBin, err)
		}
		procs = append(procs, p)
	}
	for _, p := range procs {
		if line, err := p.out.ReadString('\n'); strings.TrimSpace(line) != ReadyLine {
			return nil, p.failed(fmt.Errorf("not ready: %q (%v)", line, err))
		}
	}
	for _, p := range procs {
		if _, err := fmt.Fprintln(p.stdin, GoLine); err != nil {
			return nil, p.failed(err)
		}
	}
	out := make([]DecideLoadResult, len(procs))
	for i, p := range procs {
		if err := json.NewDecoder(p.out).Decode(&out[i]); err != nil {
			return nil, p.failed(fmt.Errorf("read its result: %w", err))
		}
	}
	return out, nil
}

// failed names the process and what it printed on standard error.
func (p *loadProc) failed(err error) error {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	return errors.Join(fmt.Errorf("decide-load %s: %w", strings.Join(p.cmd.Args[2:], " "), err),
		errors.New(strings.TrimSpace(p.stderr.String())))
}
