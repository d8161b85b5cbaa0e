package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/schulit/cmdb/internal/buildinfo"
)

// TestStaticBuild builds the agent as the README says (CGO_ENABLED=0, with
// the version injected) and checks that the binary is static — no ELF
// interpreter, no shared library — and reports that version.
func TestStaticBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the agent")
	}
	if runtime.GOOS != "linux" {
		t.Skip("checks a Linux ELF binary")
	}
	bin := filepath.Join(t.TempDir(), "cmdb-agent")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", buildinfo.LDFlags("9.8.7", "feedface"), "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the agent has an ELF interpreter: it is dynamically linked")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("the agent needs shared libraries %v (%v)", libs, err)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "cmdb-agent 9.8.7 (commit feedface, go") {
		t.Errorf("cmdb-agent version printed %q (%v), want version 9.8.7 and commit feedface", out, err)
	}
}
