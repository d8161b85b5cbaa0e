// Package buildinfo holds the version and commit of the running binary.
//
// Both are set at build time with
//
//	go build -ldflags "-X github.com/schulit/cmdb/internal/buildinfo.version=1.2.3 -X github.com/schulit/cmdb/internal/buildinfo.commit=abc123"
//
// (LDFlags returns that string). Without them, Get falls back to what the
// Go toolchain recorded: the module version and the VCS revision of a
// build inside a git checkout.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set with -ldflags -X; see the package comment.
var (
	version string
	commit  string
)

// Info describes a build.
type Info struct {
	Version   string `json:"version"`    // release version, or "dev"
	Commit    string `json:"commit"`     // VCS revision, "+dirty" when built from a modified tree; "unknown" if not known
	GoVersion string `json:"go_version"` // Go release the binary was built with
}

// String is "VERSION (commit COMMIT, GOVERSION)".
func (i Info) String() string {
	return i.Version + " (commit " + i.Commit + ", " + i.GoVersion + ")"
}

// Get returns the build's version and commit: the values injected with
// -ldflags when given, else those Go recorded in the binary, else "dev"
// and "unknown".
func Get() Info {
	i := Info{Version: version, Commit: commit, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		fromBuildInfo(&i, bi)
	}
	if i.Version == "" {
		i.Version = "dev"
	}
	if i.Commit == "" {
		i.Commit = "unknown"
	}
	return i
}

// fromBuildInfo fills what -ldflags left empty from Go's build record.
func fromBuildInfo(i *Info, bi *debug.BuildInfo) {
	if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		i.Version = bi.Main.Version
	}
	if i.Commit != "" {
		return
	}
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" && dirty {
		rev += "+dirty"
	}
	i.Commit = rev
}

// LDFlags returns the -ldflags value that sets version and commit.
func LDFlags(version, commit string) string {
	const pkg = "github.com/schulit/cmdb/internal/buildinfo"
	return "-X " + pkg + ".version=" + version + " -X " + pkg + ".commit=" + commit
}
