package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
)

// StoredPolicy is one stored version of a policy.
type StoredPolicy struct {
	Name      string    `json:"name"`
	Version   int       `json:"version"`
	Body      string    `json:"body,omitempty"`
	Checksum  string    `json:"checksum"`
	CreatedBy string    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
}

// Parse parses the stored body; its decisions name it "name@vN", and a
// rule-routed one records it (Policy.Stored) so its trace can be rendered.
func (sp StoredPolicy) Parse() (*policy.Policy, error) {
	p, err := yamlfile.ParsePolicy(fmt.Sprintf("%s@v%d", sp.Name, sp.Version), []byte(sp.Body))
	if err != nil {
		return nil, err
	}
	label := p.Version
	p.Stored = policy.StoredVersion{Name: sp.Name, Version: sp.Version}
	p.Version = p.Stored.String()
	if !strings.HasPrefix(label, "sha256:") {
		p.Version += " (" + label + ")" // the file's own label, for people
	}
	return p, nil
}

func scanPolicy(name string, row pgx.Row) (StoredPolicy, error) {
	sp := StoredPolicy{Name: name}
	err := row.Scan(&sp.Version, &sp.Body, &sp.Checksum, &sp.CreatedBy, &sp.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return sp, fmt.Errorf("policy %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return sp, fmt.Errorf("read policy %s: %w", name, err)
	}
	return sp, nil
}

// PolicyLatest returns a policy's newest version, or ErrNotFound.
func (qs *Queries) PolicyLatest(ctx context.Context, name string) (StoredPolicy, error) {
	return scanPolicy(name, qs.db.QueryRow(ctx, q("PolicyLatest"), name))
}

// PolicyVersion returns one version of a policy, or ErrNotFound.
func (qs *Queries) PolicyVersion(ctx context.Context, name string, version int) (StoredPolicy, error) {
	sp, err := scanPolicy(name, qs.db.QueryRow(ctx, q("PolicyGet"), name, version))
	if errors.Is(err, ErrNotFound) {
		return sp, fmt.Errorf("policy %s version %d: %w", name, version, ErrNotFound)
	}
	return sp, err
}

// PolicyVersions lists a policy's versions (without bodies).
func (qs *Queries) PolicyVersions(ctx context.Context, name string) ([]StoredPolicy, error) {
	rows, err := qs.db.Query(ctx, q("PolicyList"), name)
	if err != nil {
		return nil, fmt.Errorf("list policy %s: %w", name, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (StoredPolicy, error) {
		sp := StoredPolicy{Name: name}
		err := r.Scan(&sp.Version, &sp.Body, &sp.Checksum, &sp.CreatedBy, &sp.CreatedAt)
		return sp, err
	})
}

// ApplyResult says what PolicyApply did.
type ApplyResult struct {
	Version  int
	Changed  bool
	Previous *policy.Policy // nil for a policy's first version
}

// PolicyApply stores a parsed policy file as the next version of its name, in one
// transaction: it checks every team and user the policy names against the
// directory, and stores nothing when that fails or when the body is unchanged.
func (s *Store) PolicyApply(ctx context.Context, file string, body []byte, p *policy.Policy, actor string) (ApplyResult, error) {
	sum := sha256.Sum256(body)
	checksum := hex.EncodeToString(sum[:])
	var res ApplyResult
	err := s.InTx(ctx, func(qs *Queries) error {
		if _, err := qs.db.Exec(ctx, q("PolicyLock"), p.Name); err != nil {
			return fmt.Errorf("lock policy %s: %w", p.Name, err)
		}
		users, err := qs.UserList(ctx)
		if err != nil {
			return err
		}
		teams, err := qs.TeamList(ctx)
		if err != nil {
			return err
		}
		if err := yamlfile.CheckReferences(file, p, users, teams); err != nil {
			return err
		}
		latest, err := qs.PolicyLatest(ctx, p.Name)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		case latest.Checksum == checksum:
			res.Version = latest.Version
			return nil
		default:
			if res.Previous, err = latest.Parse(); err != nil {
				return fmt.Errorf("stored %s@v%d no longer parses: %w", p.Name, latest.Version, err)
			}
		}
		res.Version, res.Changed = latest.Version+1, true
		if _, err := qs.db.Exec(ctx, q("PolicyInsert"), p.Name, res.Version, string(body), checksum, actor); err != nil {
			return fmt.Errorf("store policy %s@v%d: %w", p.Name, res.Version, err)
		}
		return nil
	})
	return res, err
}
