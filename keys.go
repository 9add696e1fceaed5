package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/apikey"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/auth"
	"github.com/limelight-hq/limelight/internal/store"
)

// KeysCmd manages API keys from the command line. Secrets are printed to
// standard output once, never logged.
type KeysCmd struct {
	Create KeysCreateCmd `cmd:"" help:"Create a key and print its secret (shown only this once)."`
	List   KeysListCmd   `cmd:"" help:"List keys (never their secrets)."`
	Revoke KeysRevokeCmd `cmd:"" help:"Revoke a key by ID."`
}

// KeysCreateCmd creates a key.
type KeysCreateCmd struct {
	Role  string `required:"" enum:"ADMIN,APP,PARTNER,INFLUENCER" help:"ADMIN, APP, PARTNER or INFLUENCER."`
	Owner string `help:"Partner ID (PARTNER) or creator ID (INFLUENCER)."`
	Label string `help:"A note on who holds the key."`
}

// Run creates the key and prints its secret.
func (c *KeysCreateCmd) Run(ctx context.Context, g *Globals, log *slog.Logger) error {
	st, err := openStore(ctx, g, log)
	if err != nil {
		return err
	}
	defer st.Close()
	k, secret, err := auth.Create(ctx, st.Client, apikey.Role(strings.ToUpper(c.Role)), pulid.ID(c.Owner), c.Label)
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	fmt.Fprintf(os.Stdout, "id:     %s\nrole:   %s\nsecret: %s\n", k.ID, k.Role, secret)
	return nil
}

// KeysListCmd lists keys.
type KeysListCmd struct{}

// Run prints one line per key.
func (c *KeysListCmd) Run(ctx context.Context, g *Globals, log *slog.Logger) error {
	st, err := openStore(ctx, g, log)
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := st.Client.APIKey.Query().Order(ent.Asc(apikey.FieldCreatedAt)).All(ctx)
	if err != nil {
		return fmt.Errorf("list keys: %w", err)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tROLE\tOWNER\tCREATED\tREVOKED\tLABEL")
	for _, k := range keys {
		revoked := ""
		if k.RevokedAt != nil {
			revoked = k.RevokedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Role, k.OwnerID, k.CreatedAt.Format(time.RFC3339), revoked, k.Label)
	}
	return w.Flush()
}

// KeysRevokeCmd revokes a key.
type KeysRevokeCmd struct {
	ID string `arg:"" help:"The key's ID (AK...)."`
}

// Run revokes the key.
func (c *KeysRevokeCmd) Run(ctx context.Context, g *Globals, log *slog.Logger) error {
	st, err := openStore(ctx, g, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := auth.Revoke(ctx, st.Client, pulid.ID(c.ID), time.Now()); err != nil {
		return fmt.Errorf("revoke key: %w", err)
	}
	log.Info("key revoked", "id", c.ID)
	return nil
}

// bootstrapAdminKey creates the first ADMIN key when the database has none
// and prints its secret to out, once: it is not stored and never logged.
func bootstrapAdminKey(ctx context.Context, st *store.Store, out io.Writer, log *slog.Logger) error {
	secret, err := auth.Bootstrap(ctx, st.Client)
	if err != nil {
		return fmt.Errorf("bootstrap admin key: %w", err)
	}
	if secret == "" {
		return nil
	}
	fmt.Fprintf(out, "\nAn ADMIN API key was created for this new database. It is shown only now:\n\n"+
		"    Authorization: Bearer %s\n\n"+
		"In GraphiQL, put {\"Authorization\": \"Bearer %s\"} in the Headers tab.\n"+
		"Create more keys with `limelight keys create --role APP|PARTNER|INFLUENCER|ADMIN [--owner ID]`.\n\n", secret, secret)
	log.Info("created the first ADMIN API key (printed to standard output, not logged)")
	return nil
}
