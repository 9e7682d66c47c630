package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/temporalx"
	"github.com/batonhq/baton/policy"
)

// TestTLSOnlyTemporal puts Temporal behind a TLS front that requires a client
// certificate from the test's own CA (what a TLS-only frontend or Temporal
// Cloud's mTLS endpoints are), with certificates the test generates. The
// starter, given the CA, its client certificate and the server name, starts
// and reads a claim through it; the client options the worker uses connect
// the same way. Without the client certificate, or trusting another CA, the
// connection is refused and the error says so.
func TestTLSOnlyTemporal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := batontest.NewCA(t)
	caFile := writePEM(t, dir, "ca.pem", "CERTIFICATE", ca.Cert.Raw)
	serverCert := ca.Issue(t, x509.ExtKeyUsageServerAuth, "temporal.baton.test")
	clientCert := ca.Issue(t, x509.ExtKeyUsageClientAuth, "baton-worker")
	certFile := writePEM(t, dir, "client.pem", "CERTIFICATE", clientCert.Certificate[0])
	keyDER, err := x509.MarshalPKCS8PrivateKey(clientCert.PrivateKey)
	require.NoError(t, err)
	keyFile := writePEM(t, dir, "client.key", "PRIVATE KEY", keyDER)

	cli, b := newCLI(t, &policy.Policy{Version: "v1", AssignmentsEnabled: true, Method: policy.MethodManual})
	front := tlsFront(t, cli.env["TEMPORAL_ADDRESS"], &tls.Config{Certificates: []tls.Certificate{serverCert},
		ClientCAs: ca.Pool(), ClientAuth: tls.RequireAndVerifyClientCert, NextProtos: []string{"h2"}, MinVersion: tls.VersionTLS12})
	cli.env["TEMPORAL_ADDRESS"] = front
	cli.env["TEMPORAL_TLS_CA"] = caFile
	cli.env["TEMPORAL_TLS_CERT"] = certFile
	cli.env["TEMPORAL_TLS_KEY"] = keyFile
	cli.env["TEMPORAL_TLS_SERVER_NAME"] = "temporal.baton.test"

	code, _, errs := cli.run("directory", "load", "../../../examples/directory.yaml")
	require.Equal(t, 0, code, errs)
	id := b.ClaimID(1)
	code, out, errs := cli.run("start", id, "--owner", "gus")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "started claim "+id)
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		_, out, _ := cli.run("show", id)
		return strings.Contains(out, "status    unassigned"), out
	})

	// The worker's client options, from the same settings.
	cfg := config.Default()
	cfg.TemporalAddress, cfg.Namespace = front, b.Namespace
	cfg.TemporalTLSCA, cfg.TemporalTLSCert, cfg.TemporalTLSKey, cfg.TemporalTLSServerName = caFile, certFile, keyFile, "temporal.baton.test"
	require.NoError(t, cfg.Validate())
	dial := func(cfg config.Config) error {
		opts, err := temporalx.ClientOptions(cfg, nil)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := client.DialContext(ctx, opts)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: b.Namespace})
		return err
	}
	require.NoError(t, dial(cfg))

	noCert := cfg
	noCert.TemporalTLSCert, noCert.TemporalTLSKey = "", ""
	require.Error(t, dial(noCert), "the front requires a client certificate")
	wrongCA := cfg
	wrongCA.TemporalTLSCA = writePEM(t, dir, "other-ca.pem", "CERTIFICATE", batontest.NewCA(t).Cert.Raw)
	require.ErrorContains(t, dial(wrongCA), "certificate signed by unknown authority")
	plain := cfg
	plain.TemporalTLS, plain.TemporalTLSCA, plain.TemporalTLSCert, plain.TemporalTLSKey = false, "", "", ""
	require.Error(t, dial(plain), "plain TCP to a TLS-only front")

	half := cfg
	half.TemporalTLSKey = ""
	require.EqualError(t, half.Validate(), "config temporal_tls_cert (TEMPORAL_TLS_CERT) and temporal_tls_key (TEMPORAL_TLS_KEY): set both for mTLS, or neither")
	missing := cfg
	missing.TemporalTLSCA = filepath.Join(dir, "nope.pem")
	_, err = temporalx.ClientOptions(missing, nil)
	require.ErrorContains(t, err, "config temporal_tls_ca (TEMPORAL_TLS_CA): open ")

	// An API key (Temporal Cloud) is sent as the bearer token, over TLS.
	withKey := cfg
	withKey.TemporalAPIKey = "cloud-key"
	opts, err := temporalx.ClientOptions(withKey, nil)
	require.NoError(t, err)
	require.NotNil(t, opts.Credentials)
	require.NotNil(t, opts.ConnectionOptions.TLS)
}

// tlsFront accepts TLS connections with cfg and forwards each, decrypted, to
// the plain frontend at backend; it returns its address.
func tlsFront(t *testing.T, backend string, cfg *tls.Config) string {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				if err := conn.(*tls.Conn).Handshake(); err != nil {
					return // no client certificate, or one from another CA
				}
				up, err := net.Dial("tcp", backend)
				if err != nil {
					return
				}
				defer up.Close()
				done := make(chan struct{}, 2)
				go func() { _, _ = io.Copy(up, conn); done <- struct{}{} }()
				go func() { _, _ = io.Copy(conn, up); done <- struct{}{} }()
				<-done
			}()
		}
	}()
	return ln.Addr().String()
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}
