package prewarm

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/moby/moby/api/types/registry"

	"github.com/drover-dev/drover/inventory"
)

// AuthFunc returns the X-Registry-Auth header value for a registry address
// ("" for anonymous).
type AuthFunc func(ctx context.Context, registryAddr string) (string, error)

// EncodeAuth encodes cfg as the daemon expects it: base64url of its JSON.
func EncodeAuth(cfg registry.AuthConfig) (string, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	return base64.URLEncoding.EncodeToString(b), nil
}

// InventoryAuth resolves credentials the way the inventory says: for a
// registry with credentials.usernameEnv/passwordEnv, from those variables
// (read with getenv); otherwise from the docker config and credential
// helpers (authn.DefaultKeychain). Anonymous when neither has any.
// Credentials never appear in errors.
func InventoryAuth(inv *inventory.Inventory, getenv func(string) string) AuthFunc {
	byAddr := map[string]*inventory.RegistryCredentials{}
	add := func(r inventory.Registry) {
		if r.Address != "" && r.Credentials != nil {
			byAddr[r.Address] = r.Credentials
		}
	}
	add(inv.Registries.Source)
	for _, r := range inv.Registries.Regions {
		add(r)
	}
	return func(ctx context.Context, addr string) (string, error) {
		if c := byAddr[addr]; c != nil && c.UsernameEnv != "" {
			user, pass := getenv(c.UsernameEnv), getenv(c.PasswordEnv)
			if user == "" || pass == "" {
				return "", fmt.Errorf("registry %s: credentials env %s/%s not set", addr, c.UsernameEnv, c.PasswordEnv)
			}
			return EncodeAuth(registry.AuthConfig{Username: user, Password: pass, ServerAddress: addr})
		}
		reg, err := name.NewRegistry(addr)
		if err != nil {
			return "", fmt.Errorf("registry %s: %w", addr, err)
		}
		a, err := authn.Resolve(ctx, authn.DefaultKeychain, reg)
		if err != nil {
			return "", fmt.Errorf("registry %s: resolve credentials: %w", addr, err)
		}
		if a == authn.Anonymous {
			return "", nil
		}
		ac, err := authn.Authorization(ctx, a)
		if err != nil {
			return "", fmt.Errorf("registry %s: resolve credentials: %w", addr, err)
		}
		return EncodeAuth(registry.AuthConfig{
			Username: ac.Username, Password: ac.Password, Auth: ac.Auth,
			IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken, ServerAddress: addr,
		})
	}
}
