// Command healthcheck is the health probe of Baton's container image: it GETs the
// URL given as its only argument and exits 0 when the answer is HTTP 200, 1
// otherwise (2 on bad usage).
//
// It exists because the image is distroless: there is no shell, curl or wget to
// run a HEALTHCHECK with, so the Dockerfile and docker-compose.yml call this
// instead:
//
//	healthcheck http://127.0.0.1:9464/healthz
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// timeout bounds the whole request, so a hung server counts as unhealthy well
// within Docker's own health-check timeout.
var timeout = 3 * time.Second

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: healthcheck URL")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		os.Exit(1)
	}
}

// run returns nil when GET url answers 200 within timeout. Redirects are not
// followed and no proxy is used: the probe asks exactly the address it names.
func run(url string) error {
	c := &http.Client{
		Timeout:       timeout,
		Transport:     &http.Transport{Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
