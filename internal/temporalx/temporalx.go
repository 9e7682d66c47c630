// Package temporalx holds the Temporal wiring the programs share: client options
// and the search-attribute check that keeps a misconfigured cluster from leaving
// claim workflow tasks retrying forever.
//
// It imports config, workflows and internal/actorauth.
package temporalx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/internal/actorauth"
	"github.com/batonhq/baton/workflows"
)

// ClientOptions are the SDK client options for a config: TLS, mTLS and an
// API key as configured (TLSConfig), and with an actor key the client signs
// every start and Update (actorauth.Signer). An error names the setting and
// the file at fault.
func ClientOptions(cfg config.Config, log *slog.Logger) (client.Options, error) {
	opts := client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.Namespace,
		Logger:    sdklog.NewStructuredLogger(log),
	}
	tlsCfg, err := TLSConfig(cfg)
	if err != nil {
		return opts, err
	}
	opts.ConnectionOptions.TLS = tlsCfg
	if cfg.TemporalAPIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.TemporalAPIKey)
	}
	if keys, _ := actorauth.ParseKeys(cfg.ActorKey); keys != nil { // config.Load has checked them
		opts.Interceptors = append(opts.Interceptors, actorauth.NewSigner(keys))
	}
	return opts, nil
}

// TLSConfig is the TLS configuration of the connection to Temporal, nil for
// plain TCP (config.Config.TemporalUsesTLS): the frontend's certificate is
// verified against temporal_tls_ca (else the system's roots) for
// temporal_tls_server_name (else the host of temporal_address), and
// temporal_tls_cert and temporal_tls_key are presented for mTLS.
func TLSConfig(cfg config.Config) (*tls.Config, error) {
	if !cfg.TemporalUsesTLS() {
		return nil, nil
	}
	t := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TemporalTLSServerName}
	if t.ServerName == "" {
		host, _, err := net.SplitHostPort(cfg.TemporalAddress)
		if err != nil {
			return nil, fmt.Errorf("config temporal_address (TEMPORAL_ADDRESS) %q: %w", cfg.TemporalAddress, err)
		}
		t.ServerName = host
	}
	if cfg.TemporalTLSCA != "" {
		pem, err := os.ReadFile(cfg.TemporalTLSCA)
		if err != nil {
			return nil, fmt.Errorf("config temporal_tls_ca (TEMPORAL_TLS_CA): %w", err)
		}
		t.RootCAs = x509.NewCertPool()
		if !t.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("config temporal_tls_ca (TEMPORAL_TLS_CA): %s holds no PEM certificate", cfg.TemporalTLSCA)
		}
	}
	if cfg.TemporalTLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TemporalTLSCert, cfg.TemporalTLSKey)
		if err != nil {
			return nil, fmt.Errorf("config temporal_tls_cert (TEMPORAL_TLS_CERT) %s and temporal_tls_key (TEMPORAL_TLS_KEY) %s: %w",
				cfg.TemporalTLSCert, cfg.TemporalTLSKey, err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, nil
}

// SearchAttributes are Baton's search attributes with their types.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	out := map[string]enumspb.IndexedValueType{}
	for _, n := range workflows.SearchAttributeNames {
		out[n] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	return out
}

// MissingSearchAttributes lists Baton's search attributes the namespace lacks.
func MissingSearchAttributes(ctx context.Context, c client.Client, namespace string) ([]string, error) {
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("list search attributes of namespace %s: %w", namespace, err)
	}
	var missing []string
	for name, typ := range SearchAttributes() {
		if got, ok := resp.GetCustomAttributes()[name]; !ok || got != typ {
			missing = append(missing, name)
		}
	}
	slices.Sort(missing)
	return missing, nil
}

// EnsureSearchAttributes checks the namespace has Baton's search attributes. With
// register it adds missing ones and waits until they are visible; without, it
// fails with the command an operator runs to add them.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string, register bool) error {
	missing, err := MissingSearchAttributes(ctx, c, namespace)
	if err != nil || len(missing) == 0 {
		return err
	}
	if !register {
		var cmds []string
		for _, m := range missing {
			cmds = append(cmds, fmt.Sprintf("temporal operator search-attribute create --namespace %s --name %s --type Keyword", namespace, m))
		}
		return fmt.Errorf("namespace %s lacks Baton's search attributes %s; claims would be stuck retrying their first workflow task. "+
			"Register them:\n  %s\nor start the worker with BATON_REGISTER_SEARCH_ATTRIBUTES=true",
			namespace, strings.Join(missing, ", "), strings.Join(cmds, "\n  "))
	}
	add := map[string]enumspb.IndexedValueType{}
	for _, m := range missing {
		add[m] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	return RegisterSearchAttributes(ctx, c, namespace, add)
}

// RegisterSearchAttributes adds the wanted search attributes the namespace lacks
// and waits until they are visible. One that exists with another type is an error:
// changing a type needs an operator, not a silent re-registration.
func RegisterSearchAttributes(ctx context.Context, c client.Client, namespace string, want map[string]enumspb.IndexedValueType) error {
	for {
		resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
		if err != nil {
			return fmt.Errorf("list search attributes of namespace %s: %w", namespace, err)
		}
		missing := map[string]enumspb.IndexedValueType{}
		for name, typ := range want {
			got, ok := resp.GetCustomAttributes()[name]
			if !ok {
				got, ok = resp.GetSystemAttributes()[name]
			}
			switch {
			case !ok:
				missing[name] = typ
			case got != typ:
				return fmt.Errorf("search attribute %s exists in namespace %s as %s, want %s", name, namespace, got, typ)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace: namespace, SearchAttributes: missing,
		})
		var exists *serviceerror.AlreadyExists
		if err != nil && !errors.As(err, &exists) { // another process adding them at once is fine
			return fmt.Errorf("add search attributes to namespace %s: %w", namespace, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("search attributes not visible in namespace %s: %w", namespace, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
