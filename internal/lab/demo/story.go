package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/drover-dev/drover/internal/lab"
	"github.com/drover-dev/drover/internal/output"
)

// story is one run of lab demo: a lab, the tools run against it, and the
// timings it reports at the end.
type story struct {
	o        Options
	cfg      lab.Config
	out      io.Writer
	dir, bin string

	l       *lab.Lab
	r       *runner
	step    int
	timings []timing
	fast    time.Duration // the rollout of a prewarmed release
}

type timing struct {
	what string
	took time.Duration
}

const steps = 6

// headline starts step n of the story.
func (s *story) headline(format string, args ...any) {
	s.step++
	fmt.Fprintf(s.out, "\n== %d/%d %s ==\n", s.step, steps, fmt.Sprintf(format, args...))
}

func (s *story) say(format string, args ...any) {
	fmt.Fprintf(s.out, "  "+format+"\n", args...)
}

func (s *story) record(what string, d time.Duration) { s.timings = append(s.timings, timing{what, d}) }

// run tells the story; an error means a step did not behave as told.
func (s *story) run(ctx context.Context) error {
	start := time.Now()
	if err := s.startLab(ctx); err != nil {
		return err
	}
	defer s.l.Close()
	for _, step := range []func(context.Context) error{s.prewarmRelease, s.rolloutRelease, s.rollbackRelease, s.failedRelease, s.withoutPrewarm} {
		if err := step(ctx); err != nil {
			fmt.Fprintf(s.out, "\n  STORY BROKEN at step %d: %v\n", s.step, err)
			return fmt.Errorf("step %d: %w", s.step, err)
		}
	}
	s.summary(time.Since(start))
	return nil
}

func (s *story) startLab(ctx context.Context) error {
	c := s.cfg
	s.headline("Start the lab")
	s.say("%d regions, %d environments of %d Docker hosts, %d Rancher services each (web/svc01.., scale %d) running app:1.0;",
		c.Regions, c.Envs, c.HostsPerEnv, c.Services, c.HostsPerEnv)
	s.say("source registry seeded with app:1.0, 1.1, 1.2, 1.3: %s each in %d layers, the first %d shared by every tag;",
		output.HumanBytes(c.ImageSize), c.Layers, c.Base)
	s.say("regions hold app:1.0 and every host has pulled it (setup, unshaped). Then every host's link: %s.", s.o.HostLink)
	t0 := time.Now()
	l, err := lab.Start(ctx, c)
	if err != nil {
		return err
	}
	s.l = l
	took := time.Since(t0)
	s.record("start the lab", took)
	if err := l.WriteInventory(filepath.Join(s.dir, "hosts.yaml")); err != nil {
		return err
	}
	if err := l.WriteEnvFile(filepath.Join(s.dir, "lab.env")); err != nil {
		return err
	}
	s.r = &runner{out: s.out, dir: s.dir, bin: s.bin, env: append(os.Environ(), l.Environ()...), full: s.o.Full}
	tw := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ENV\tREGION\tWAVE\tHOSTS\tSERVICES\tDOCKER")
	for _, e := range l.Envs() {
		s.r.envs = append(s.r.envs, e.Name)
		docker := "tcp:// endpoint"
		if l.ViaRancher(e.Name) {
			docker = "through Rancher"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d x %s\t%s\n", e.Name, e.Region, e.Wave, len(e.Hosts), len(l.Services(e.Name)), c.ServiceImage, docker)
	}
	_ = tw.Flush()
	if len(c.ViaRancher) > 0 {
		s.say("the DMZ environments (%s) expose no Docker endpoint: their hosts.yaml entry is", strings.Join(c.ViaRancher, ", "))
		s.say("discover: {from: rancher, docker: rancher}, and prewarm and rollout reach each host's Docker")
		s.say("through Rancher (the host's dockersocket action, relayed by its agent); the image bytes do not cross Rancher.")
	}
	s.say("in %s: hosts.yaml, and lab.env with the %d Rancher key variables (values never printed;", s.dir, len(l.Environ()))
	s.say("the tools get them in their environment). Every command below runs there.")
	s.say("-> up in %s", took.Round(100*time.Millisecond))
	return nil
}

// writeRelease writes app-<tag>/release.yaml moving every service to
// app:<tag>, and returns its path relative to the demo directory.
func (s *story) writeRelease(tag string) (string, error) {
	rel := filepath.Join("app-"+tag, "release.yaml")
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nimages:\n  - name: app\n    ref: %s/app:%s\nservices:\n", s.l.Source.Addr(), tag)
	for _, svc := range s.l.ServiceNames() {
		fmt.Fprintf(&b, "  - service: %s\n    image: app\n", svc)
	}
	if err := os.MkdirAll(filepath.Join(s.dir, "app-"+tag), 0o700); err != nil {
		return "", err
	}
	return rel, os.WriteFile(filepath.Join(s.dir, rel), []byte(b.String()), 0o600)
}

// expect checks a command's exit code.
func expect(res result, code int) error {
	if res.code != code {
		return fmt.Errorf("exit %d, want %d: %s", res.code, code, lastLine(res.stderr))
	}
	return nil
}

func (s *story) summary(total time.Duration) {
	fmt.Fprintf(s.out, "\n== Timings ==\n")
	tw := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', 0)
	for _, t := range s.timings {
		fmt.Fprintf(tw, "  %s\t%s\n", t.what, t.took.Round(100*time.Millisecond))
	}
	fmt.Fprintf(tw, "  total\t%s\n", total.Round(100*time.Millisecond))
	_ = tw.Flush()
	fmt.Fprintf(s.out, "\nThe story held: every step did what it should.\n")
}
