package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// ErrFault marks a fault (ServeOptions.Faults) the lab could not inject,
// e.g. one naming a host or registry the lab does not have.
var ErrFault = errors.New("fault")

// faultError is an error that is ErrFault, and says only what it says.
type faultError struct{ error }

func (e faultError) Unwrap() error      { return e.error }
func (faultError) Is(target error) bool { return target == ErrFault }

// ErrConfig marks a Config that Start refuses before starting anything (an
// unknown environment, a bad count): the caller's usage error.
var ErrConfig = errors.New("lab config")

// configError is an error that is ErrConfig, and says only what it says.
type configError struct{ error }

func (e configError) Unwrap() error      { return e.error }
func (configError) Is(target error) bool { return target == ErrConfig }

// ServeOptions is what Serve does around a running lab (`lab up`).
type ServeOptions struct {
	// Faults are injected once the lab is up.
	Faults []Fault
	// Write is where the hosts.yaml goes; empty: Out.
	Write string
	// EnvFile is where the lab's secrets go as export lines; empty: Write
	// plus ".env", or nowhere when Write is empty too.
	EnvFile string
	// JSON writes Describe to Out instead of the hosts.yaml.
	JSON bool
	// Out gets the hosts.yaml (or JSON); it is never given a secret.
	Out io.Writer
}

// Serve starts a lab with cfg, injects the faults, writes what o says,
// logs what it runs (to cfg.Logger) and runs until ctx is done, then
// closes the lab. A fault the lab refuses is an ErrFault error.
func Serve(ctx context.Context, cfg Config, o ServeOptions) error {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	l, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer l.Close()
	for _, ft := range o.Faults {
		if err := l.Inject(ft); err != nil {
			return faultError{fmt.Errorf("--fault: %w", err)}
		}
	}
	envFile := o.EnvFile
	if envFile == "" && o.Write != "" {
		envFile = o.Write + ".env"
	}
	if envFile != "" {
		if err := l.WriteEnvFile(envFile); err != nil {
			return err
		}
	}
	if o.Write != "" {
		if err := l.WriteInventory(o.Write); err != nil {
			return err
		}
	}
	switch {
	case o.JSON:
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(l.Describe()); err != nil {
			return err
		}
	case o.Write == "":
		if _, err := o.Out.Write(l.InventoryYAML()); err != nil {
			return err
		}
	}
	for _, s := range l.Seeded {
		log.Info("seeded", "ref", l.Source.Addr()+"/"+s.Ref, "digest", s.Digest, "size", s.Size, "layers", len(s.Layers))
	}
	inv := o.Write
	if inv == "" {
		inv = "stdout"
	}
	rancherURL := ""
	if l.Rancher != nil {
		rancherURL = l.Rancher.URL()
	}
	log.Info("lab up", "took", time.Since(start).Round(time.Millisecond),
		"source", l.Source.Addr(), "regions", len(l.RegionNames()), "hosts", len(l.Hosts()), "services_per_env", len(l.ServiceNames()),
		"rancher", rancherURL, "inventory", inv, "env_file", envFile)
	if envFile == "" {
		log.Info("Rancher keys not written: pass --env-file to use rollout against this lab")
	}
	<-ctx.Done()
	log.Info("lab stopping")
	if err := l.Close(); err != nil {
		return fmt.Errorf("stop lab: %w", err)
	}
	return nil
}
