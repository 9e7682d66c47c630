package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/batonhq/baton/internal/service"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
)

// The token commands manage API tokens: bearer credentials for the HTTP API. A
// token is printed once, when it is created; the database keeps only its hash.

// tokenService is the use cases over the database, migrated first: creating
// a token is often the first thing done against a new database.
func tokenService(ctx context.Context, c *cli) (*service.Service, error) {
	st, err := c.store(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := store.Migrate(ctx, st.Pool(), nil); err != nil {
		return nil, err
	}
	return c.offline(ctx)
}

func cmdTokenCreate(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	label := fs.String("label", "", "what the token is for (shown by token list)")
	expires := fs.String("expires", "90d", "how long the token lives: a Go duration or whole days (at most 366d)")
	pos, err := parse(fs, args, "USER")
	if err != nil {
		return err
	}
	ttl, err := policy.ParseDuration(*expires)
	if err != nil || ttl <= 0 || ttl > store.MaxTokenTTL {
		return usagef("--expires %q: want a duration such as 30d or 12h, at most 366d", *expires)
	}
	svc, err := tokenService(ctx, c)
	if err != nil {
		return err
	}
	token, id, err := svc.CreateToken(ctx, pos[0], *label, ttl)
	if err != nil {
		return err
	}
	// The token alone on stdout, so TOKEN=$(starter token create ben) works; the
	// warning on stderr, where a person sees it.
	fmt.Fprintln(c.stdout, token)
	fmt.Fprintf(c.stderr, "created API token %d for %s, expiring %s. Keep it now: it is shown only this once and Baton "+
		"stores only its hash. Send it as \"Authorization: Bearer <token>\"; revoke it with `starter token revoke %d`.\n",
		id, pos[0], time.Now().Add(ttl).UTC().Format(time.RFC3339), id)
	return nil
}

func cmdTokenList(ctx context.Context, c *cli, args []string) error {
	pos, err := parse(flag.NewFlagSet("token list", flag.ContinueOnError), args, "USER")
	if err != nil {
		return err
	}
	svc, err := tokenService(ctx, c)
	if err != nil {
		return err
	}
	tokens, err := svc.Tokens(ctx, pos[0])
	if err != nil {
		return err
	}
	if len(tokens) == 0 {
		fmt.Fprintf(c.stdout, "no API tokens for %s\n", pos[0])
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLABEL\tCREATED\tEXPIRES\tLAST USED\tREVOKED")
	at := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, t := range tokens {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, orDash(t.Label), t.CreatedAt.UTC().Format(time.RFC3339),
			t.ExpiresAt.UTC().Format(time.RFC3339), at(t.LastUsedAt), at(t.RevokedAt))
	}
	return tw.Flush()
}

func cmdTokenRevoke(ctx context.Context, c *cli, args []string) error {
	flags := func() (*flag.FlagSet, *string) {
		fs := flag.NewFlagSet("token revoke", flag.ContinueOnError)
		return fs, fs.String("user", "", "revoke every token of this user instead")
	}
	fs, user := flags()
	pos, err := parse(fs, args, "ID")
	if errors.As(err, new(helpRequested)) {
		return err
	}
	if err != nil {
		// No ID: fine with --user USER alone.
		fs, user = flags()
		if _, err2 := parse(fs, args); err2 != nil || *user == "" {
			return usagef("want token revoke ID, or token revoke --user USER")
		}
	} else if *user != "" {
		return usagef("give a token ID or --user USER, not both")
	}
	var id int64
	if *user == "" {
		if id, err = strconv.ParseInt(pos[0], 10, 64); err != nil || id < 1 {
			return usagef("token ID %q: want the number token list shows", pos[0])
		}
	}
	svc, err := tokenService(ctx, c)
	if err != nil {
		return err
	}
	if *user != "" {
		n, err := svc.RevokeTokens(ctx, *user)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "revoked %d API token(s) of %s\n", n, *user)
		return nil
	}
	if err := svc.RevokeToken(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "revoked API token %d\n", id)
	return nil
}
