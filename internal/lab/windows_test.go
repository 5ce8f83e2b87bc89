package lab

import (
	"strings"
	"testing"
)

func TestWindowsConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cfg       Config
		wantBuild string
		wantErr   string
	}{
		{name: "default build", cfg: Config{Envs: 2, WindowsEnvs: []string{"qa"}}, wantBuild: DefaultWindowsBuild},
		{name: "build given", cfg: Config{Envs: 2, WindowsEnvs: []string{"qa"}, WindowsBuild: "10.0.20348"}, wantBuild: "10.0.20348"},
		{name: "unknown env", cfg: Config{Envs: 2, WindowsEnvs: []string{"prod"}}, wantErr: `windows-hosts: unknown environment "prod" (this lab's environments: dev, qa)`},
		{name: "bad build", cfg: Config{WindowsEnvs: []string{"dev"}, WindowsBuild: "2019"}, wantErr: `windows build "2019": want major.minor.build`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := tt.cfg.withDefaults()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || c.WindowsBuild != tt.wantBuild {
				t.Errorf("build %q, err %v; want %q", c.WindowsBuild, err, tt.wantBuild)
			}
		})
	}
}
