package fleet

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/docker/cli/cli/config"
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
	b, err := json.Marshal(cfg) //nolint:gosec // G117: the password is meant to go to the daemon; this value is never logged
	if err != nil {
		return "", err
	}
	return base64.URLEncoding.EncodeToString(b), nil
}

// InventoryAuth resolves registry credentials the way the inventory says,
// as prewarm mirror does: credentials.usernameEnv/passwordEnv read with
// getenv; else credentials.dockerConfig (a docker config.json, credential
// helpers included); else the default docker config and credential helpers
// (authn.DefaultKeychain); else anonymous. Credentials never appear in
// errors or logs.
func InventoryAuth(inv *inventory.Inventory, getenv func(string) string) AuthFunc {
	byAddr := map[string]inventory.Registry{inv.Registries.Source.Address: inv.Registries.Source}
	for _, r := range inv.Registries.Regions {
		byAddr[r.Address] = r
	}
	return func(ctx context.Context, addr string) (string, error) {
		r := byAddr[addr]
		r.Address = addr
		c := r.Credentials
		switch {
		case c != nil && (c.UsernameEnv != "" || c.PasswordEnv != ""):
			a, err := r.Auth(getenv)
			if err != nil {
				return "", err
			}
			return EncodeAuth(registry.AuthConfig{Username: a.Username, Password: a.Password, ServerAddress: addr})
		case c != nil && c.DockerConfig != "":
			return dockerConfigAuth(c.DockerConfig, addr)
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

func dockerConfigAuth(path, addr string) (string, error) {
	b, err := inventory.ReadDockerConfig(path)
	if err != nil {
		return "", fmt.Errorf("registry %s: credentials: %w", addr, err)
	}
	cf, err := config.LoadFromReader(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("registry %s: docker config %s: %w", addr, filepath.Base(path), err)
	}
	ac, err := cf.GetAuthConfig(addr)
	if err != nil {
		return "", fmt.Errorf("registry %s: docker config %s: %w", addr, filepath.Base(path), err)
	}
	if ac.Username == "" && ac.Password == "" && ac.Auth == "" && ac.IdentityToken == "" && ac.RegistryToken == "" {
		return "", nil
	}
	return EncodeAuth(registry.AuthConfig{
		Username: ac.Username, Password: ac.Password, Auth: ac.Auth,
		IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken, ServerAddress: addr,
	})
}
