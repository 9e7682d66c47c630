// Package config is Baton's one configuration struct: documented defaults,
// overridden by an optional YAML file, overridden by environment variables. The
// README's configuration table is generated from the same field list (Fields).
//
// It imports internal/actorauth only (to check the actor key).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/batonhq/baton/internal/actorauth"
)

// Config configures the worker, the starter and the dev stack.
type Config struct {
	// DatabaseURL is the PostgreSQL connection URL.
	DatabaseURL string `yaml:"database_url" env:"DATABASE_URL" doc:"PostgreSQL URL (required by the worker; the dev stack finds or starts one)"`
	// TemporalAddress is the Temporal frontend host:port.
	TemporalAddress string `yaml:"temporal_address" env:"TEMPORAL_ADDRESS" default:"127.0.0.1:7233" doc:"Temporal frontend host:port"`
	// Namespace is the Temporal namespace claims run in.
	Namespace string `yaml:"namespace" env:"TEMPORAL_NAMESPACE" default:"default" doc:"Temporal namespace"`
	// TemporalTLS and the TemporalTLS* files connect to Temporal over TLS,
	// with a client certificate for mTLS; TemporalAPIKey authenticates to
	// Temporal Cloud (over TLS). The names are the temporal CLI's.
	TemporalTLS           bool   `yaml:"temporal_tls" env:"TEMPORAL_TLS" default:"false" doc:"connect to Temporal over TLS (implied by temporal_tls_ca, temporal_tls_cert or temporal_api_key)"`
	TemporalTLSCA         string `yaml:"temporal_tls_ca" env:"TEMPORAL_TLS_CA" doc:"PEM file of the CAs that sign the Temporal frontend's certificate; empty: the system's roots"`
	TemporalTLSCert       string `yaml:"temporal_tls_cert" env:"TEMPORAL_TLS_CERT" doc:"PEM client certificate for mTLS to Temporal (with temporal_tls_key)"`
	TemporalTLSKey        string `yaml:"temporal_tls_key" env:"TEMPORAL_TLS_KEY" doc:"PEM private key of temporal_tls_cert"`
	TemporalTLSServerName string `yaml:"temporal_tls_server_name" env:"TEMPORAL_TLS_SERVER_NAME" doc:"name the Temporal frontend's certificate must carry; empty: the host of temporal_address"`
	TemporalAPIKey        string `yaml:"temporal_api_key" env:"TEMPORAL_API_KEY" doc:"Temporal Cloud API key, sent as a bearer token over TLS"`
	// TaskQueue is where claim workflows and activities run.
	TaskQueue string `yaml:"task_queue" env:"BATON_TASK_QUEUE" default:"baton" doc:"Temporal task queue of claim workflows and activities"`
	// RegisterSearchAttributes makes the worker add missing Baton search attributes
	// at start instead of refusing to start.
	RegisterSearchAttributes bool `yaml:"register_search_attributes" env:"BATON_REGISTER_SEARCH_ATTRIBUTES" default:"false" doc:"add missing Baton search attributes at start (needs operator rights); otherwise the worker refuses to start without them"`
	// PolicyFile is the assignment policy; empty means the source's defaults
	// (assignments disabled, manual).
	PolicyFile string `yaml:"policy_file" env:"BATON_POLICY_FILE" doc:"policy file (YAML or JSON), relative to the directory the process starts in; empty: enableClaimAssignments false, manual"`
	// ProductModule selects a built-in product module; custom modules are provided
	// through fx (see the README).
	ProductModule string `yaml:"product_module" env:"BATON_PRODUCT_MODULE" doc:"built-in product module for product_module stages: empty or roles_by_stage"`
	// LinkTemplate builds notification deep links.
	LinkTemplate string `yaml:"link_template" env:"BATON_LINK_TEMPLATE" default:"http://localhost:8080/claims/{claim_id}?stage={stage}" doc:"deep link in notifications; {claim_id}, {stage}, {workflow_id} are replaced"`
	// HTTPAddress is where starter serve listens.
	HTTPAddress string `yaml:"http_address" env:"BATON_HTTP_ADDRESS" default:"127.0.0.1:8080" doc:"listen address of starter serve"`
	// APIRate, APIBurst and APIInFlight bound each API token of starter
	// serve (httpapi.Limits).
	APIRate     int `yaml:"api_rate" env:"BATON_API_RATE" default:"20" doc:"requests a second each API token may send to starter serve on average; past it, 429 with Retry-After"`
	APIBurst    int `yaml:"api_burst" env:"BATON_API_BURST" default:"100" doc:"requests an API token may send at once after a pause"`
	APIInFlight int `yaml:"api_in_flight" env:"BATON_API_IN_FLIGHT" default:"8" doc:"requests of one API token answered at the same time"`
	// MetricsAddress is where the worker and the API server serve Prometheus
	// metrics (and /healthz); empty disables it.
	MetricsAddress string `yaml:"metrics_address" env:"BATON_METRICS_ADDRESS" default:"127.0.0.1:9464" doc:"Prometheus /metrics and /healthz listen address of the worker and starter serve; off (or empty in a file) disables it"`
	// SMTP* configure e-mail notifications; an empty SMTPHost sends none.
	SMTPHost     string `yaml:"smtp_host" env:"BATON_SMTP_HOST" doc:"SMTP server for e-mail notifications; empty: no e-mail"`
	SMTPPort     int    `yaml:"smtp_port" env:"BATON_SMTP_PORT" default:"587" doc:"SMTP port"`
	SMTPUsername string `yaml:"smtp_username" env:"BATON_SMTP_USERNAME" doc:"SMTP user (PLAIN auth); empty: no auth"`
	SMTPPassword string `yaml:"smtp_password" env:"BATON_SMTP_PASSWORD" doc:"SMTP password"`
	SMTPFrom     string `yaml:"smtp_from" env:"BATON_SMTP_FROM" default:"baton@localhost" doc:"From address of notification e-mails"`
	SMTPTLS      string `yaml:"smtp_tls" env:"BATON_SMTP_TLS" default:"starttls" doc:"none, starttls or tls"`
	// SlackWebhookURL posts assignment messages to Slack; empty sends none.
	SlackWebhookURL string `yaml:"slack_webhook_url" env:"BATON_SLACK_WEBHOOK_URL" doc:"Slack incoming-webhook URL for assignment messages; empty: no Slack"`
	// OutboxSweepAfter is how long an unsent notification waits before the
	// worker's sweeper sends it instead of its claim's own activity.
	OutboxSweepAfter time.Duration `yaml:"outbox_sweep_after" env:"BATON_OUTBOX_SWEEP_AFTER" default:"1m" doc:"unsent e-mail and Slack messages older than this are sent by the worker's sweeper (the claim finished or its worker died before they went out)"`
	// RequirementIdle is how long a requirement may go unused by any decision
	// before the sweeper retires it: directory changes stop keeping its members
	// until a decision needs it again.
	RequirementIdle time.Duration `yaml:"requirement_idle" env:"BATON_REQUIREMENT_IDLE" default:"720h" doc:"a requirement (who may take a stage, per permissions and filters) no decision used for this long stops being kept up to date by directory changes until one needs it again"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level" env:"BATON_LOG_LEVEL" default:"info" doc:"debug, info, warn or error"`
	// ShutdownTimeout bounds how long a stopping worker waits for in-flight
	// activities before abandoning them to Temporal's retry.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout" env:"BATON_SHUTDOWN_TIMEOUT" default:"30s" doc:"how long a stopping worker lets in-flight activities finish"`
	// WorkflowCacheSize is how many claims the worker keeps in memory between
	// workflow tasks (the SDK's sticky cache). Past it, the least recently used
	// is evicted and replayed from history when it next has work.
	WorkflowCacheSize int `yaml:"workflow_cache_size" env:"BATON_WORKFLOW_CACHE_SIZE" default:"10000" doc:"claims the worker keeps in memory between tasks (the SDK's sticky cache); past it the least recently used is replayed from history when it next has work"`
	// ActorKey, when set, makes every Update carry an actor assertion signed with
	// it (see package actorauth): the worker refuses Updates without a valid one,
	// and the starter and the HTTP API sign theirs.
	ActorKey string `yaml:"actor_key" env:"BATON_ACTOR_KEY" doc:"key (at least 32 bytes; several, comma-separated, while replacing one) that signs the actor of every Update; the worker refuses Updates not signed with it. Empty: no check, and namespace access means acting as any user (README Security)"`
}

// Field describes one setting, for the README and for error messages.
type Field struct {
	YAML, Env, Default, Doc string
}

// Fields lists every setting in declaration order.
func Fields() []Field {
	t := reflect.TypeOf(Config{})
	out := make([]Field, t.NumField())
	for i := range out {
		f := t.Field(i)
		out[i] = Field{YAML: f.Tag.Get("yaml"), Env: f.Tag.Get("env"), Default: f.Tag.Get("default"), Doc: f.Tag.Get("doc")}
	}
	return out
}

// Default returns the documented defaults.
func Default() Config {
	var c Config
	v := reflect.ValueOf(&c).Elem()
	for i := 0; i < v.NumField(); i++ {
		if d := v.Type().Field(i).Tag.Get("default"); d != "" {
			if err := set(v.Field(i), d); err != nil {
				panic(fmt.Sprintf("config: bad default for %s: %v", v.Type().Field(i).Name, err))
			}
		}
	}
	return c
}

// Load returns the defaults, overridden by file (when non-empty) and then by the
// environment (getenv, usually os.Getenv).
func Load(file string, getenv func(string) string) (Config, error) {
	c := Default()
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return c, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("config %s: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
		}
	}
	v := reflect.ValueOf(&c).Elem()
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Tag.Get("env")
		if val := getenv(name); val != "" {
			if err := set(v.Field(i), val); err != nil {
				return c, fmt.Errorf("environment %s=%q: %w", name, val, err)
			}
		}
	}
	if strings.EqualFold(c.MetricsAddress, "off") {
		c.MetricsAddress = "" // an environment variable cannot be set to empty to disable it
	}
	// A relative policy file means the one in the directory the process was
	// started from. Made absolute here, it stays that file for every
	// component and child process it is handed to, whatever directory they
	// work in.
	if c.PolicyFile != "" && !filepath.IsAbs(c.PolicyFile) {
		abs, err := filepath.Abs(c.PolicyFile)
		if err != nil {
			return c, fmt.Errorf("config policy_file (BATON_POLICY_FILE): %w", err)
		}
		c.PolicyFile = abs
	}
	return c, c.Validate()
}

// Validate checks values that would otherwise fail later and less clearly.
func (c Config) Validate() error {
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config log_level (BATON_LOG_LEVEL): %q: want debug, info, warn or error", c.LogLevel)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"api_rate (BATON_API_RATE)", c.APIRate}, {"api_burst (BATON_API_BURST)", c.APIBurst}, {"api_in_flight (BATON_API_IN_FLIGHT)", c.APIInFlight}} {
		if f.v < 1 {
			return fmt.Errorf("config %s: %d: want at least 1", f.name, f.v)
		}
	}
	switch c.ProductModule {
	case "", "roles_by_stage":
	default:
		return fmt.Errorf("config product_module (BATON_PRODUCT_MODULE): %q: want empty or roles_by_stage", c.ProductModule)
	}
	switch c.SMTPTLS {
	case "none", "starttls", "tls":
	default:
		return fmt.Errorf("config smtp_tls (BATON_SMTP_TLS): %q: want none, starttls or tls", c.SMTPTLS)
	}
	if c.RequirementIdle <= 0 {
		return fmt.Errorf("config requirement_idle (BATON_REQUIREMENT_IDLE): must be positive")
	}
	if c.OutboxSweepAfter <= 0 {
		return fmt.Errorf("config outbox_sweep_after (BATON_OUTBOX_SWEEP_AFTER): must be positive")
	}
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("config shutdown_timeout (BATON_SHUTDOWN_TIMEOUT): must be positive")
	}
	if c.WorkflowCacheSize <= 0 {
		return fmt.Errorf("config workflow_cache_size (BATON_WORKFLOW_CACHE_SIZE): must be positive")
	}
	if _, err := actorauth.ParseKeys(c.ActorKey); err != nil {
		return fmt.Errorf("config actor_key (BATON_ACTOR_KEY): %w", err)
	}
	if (c.TemporalTLSCert == "") != (c.TemporalTLSKey == "") {
		return fmt.Errorf("config temporal_tls_cert (TEMPORAL_TLS_CERT) and temporal_tls_key (TEMPORAL_TLS_KEY): set both for mTLS, or neither")
	}
	if c.TaskQueue == "" || c.Namespace == "" || c.TemporalAddress == "" {
		return fmt.Errorf("config: temporal_address, namespace and task_queue must not be empty")
	}
	return nil
}

func set(f reflect.Value, s string) error {
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("want a whole number")
		}
		f.SetInt(int64(n))
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("want true or false")
		}
		f.SetBool(b)
	case reflect.Int64:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("want a duration such as 30s")
		}
		f.SetInt(int64(d))
	default:
		return fmt.Errorf("unsupported kind %s", f.Kind())
	}
	return nil
}

// TemporalUsesTLS reports whether the connection to Temporal is TLS: asked
// for, or implied by a CA, a client certificate or an API key.
func (c Config) TemporalUsesTLS() bool {
	return c.TemporalTLS || c.TemporalTLSCA != "" || c.TemporalTLSCert != "" || c.TemporalAPIKey != ""
}
