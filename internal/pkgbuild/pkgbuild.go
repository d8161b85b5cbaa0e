// Package pkgbuild builds the Debian packages cmdbd and cmdb-agent with
// nFPM (github.com/goreleaser/nfpm): it cross-compiles both commands
// (static, CGO_ENABLED=0, -trimpath, version and commit injected) and packs
// them with their systemd units, settings file and maintainer scripts,
// which live in files/ beside this file.
//
// Package layout:
//
//	cmdbd:      /usr/bin/cmdbd, /usr/lib/systemd/system/cmdbd.service,
//	            /etc/cmdb/cmdbd.env (conffile); runs as the system user cmdb
//	            with its data in /var/lib/cmdb; the connectors in
//	            /usr/lib/cmdb/connectors (cmdb-connector-csv, -intune, -snipeit)
//	cmdb-agent: /usr/bin/cmdb-agent, /usr/lib/systemd/system/cmdb-agent.service;
//	            runs as root once enrolled, state in /var/lib/cmdb-agent
package pkgbuild

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"

	"github.com/schulit/cmdb/internal/buildinfo"
)

//go:embed files
var packFiles embed.FS

// Arches are the GOARCH values packages are built for by default.
var Arches = []string{"amd64", "arm64"}

// Options says what to build.
type Options struct {
	// Version is the Debian package version and the version the binaries
	// report, e.g. 1.4.0 or 0.0.0+git20261202.3f2c9e1 (required; digits
	// first, then letters, digits and . + ~).
	Version string
	// Commit is the VCS revision the binaries report; empty: unknown.
	Commit string
	// Arches lists GOARCH values; nil: Arches.
	Arches []string
	// OutDir receives the .deb files (created if missing).
	OutDir string
	// ModuleDir is the root of the cmdb module to build; empty: the
	// module the go command finds from the current directory.
	ModuleDir string
	// BinDir, when set, holds prebuilt binaries as BinDir/GOARCH/cmdbd,
	// BinDir/GOARCH/cmdb-agent and the Connectors; they are packed as they are instead of
	// being built (tests use it to pack the same build twice).
	BinDir string
	// MTime is the time stamp of every packed file; zero: the time in
	// $SOURCE_DATE_EPOCH (seconds since 1970), else now. The same commit
	// and MTime give the same packages.
	MTime time.Time
	// Compression of the packages' data: "" (gzip, what Debian expects
	// of a package to publish), or "none", "xz" or "zstd". The tests pack
	// with "none": gzip of ~100 MB of binaries under the race detector
	// takes minutes, and dpkg installs either the same.
	Compression string
	// Log receives the commands run; nil: discarded.
	Log io.Writer
}

// Package is one built .deb file.
type Package struct {
	Name string // cmdbd or cmdb-agent
	Arch string // Debian architecture: amd64, arm64
	Path string
}

var debVersion = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*$`)

// Build compiles the binaries (unless Options.BinDir holds them) and
// writes one .deb per package and architecture to Options.OutDir, named
// NAME_VERSION_ARCH.deb.
func Build(ctx context.Context, o Options) ([]Package, error) {
	if !debVersion.MatchString(o.Version) {
		return nil, fmt.Errorf("pkgbuild: version %q: must start with a digit and hold only letters, digits and . + ~", o.Version)
	}
	if o.OutDir == "" {
		return nil, errors.New("pkgbuild: no output directory given")
	}
	if o.Arches == nil {
		o.Arches = Arches
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.MTime.IsZero() {
		o.MTime = time.Now()
		if sec, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
			o.MTime = time.Unix(sec, 0)
		}
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "cmdb-pkgbuild-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	// nFPM packs files from disk: put the embedded ones there.
	if err := os.CopyFS(filepath.Join(work, "files"), mustSub(packFiles, "files")); err != nil {
		return nil, err
	}
	bins := o.BinDir
	if bins == "" {
		bins = filepath.Join(work, "bin")
		for _, arch := range o.Arches {
			if err := BuildBinaries(ctx, BinaryOptions{Version: o.Version, Commit: o.Commit, Arch: arch,
				OutDir: filepath.Join(bins, arch), ModuleDir: o.ModuleDir, Log: o.Log}); err != nil {
				return nil, err
			}
		}
	}
	var out []Package
	for _, arch := range o.Arches {
		for _, spec := range []func(files, bin string) *nfpm.Info{serverInfo, agentInfo} {
			info := spec(filepath.Join(work, "files"), filepath.Join(bins, arch))
			info.Arch, info.Version, info.MTime = arch, o.Version, o.MTime
			info.Deb.Compression = o.Compression
			p, err := pack(info, o.OutDir)
			if err != nil {
				return nil, err
			}
			fmt.Fprintln(o.Log, "wrote", p.Path)
			out = append(out, p)
		}
	}
	return out, nil
}

// BinaryOptions says which binaries BuildBinaries builds.
type BinaryOptions struct {
	Version, Commit string
	Arch            string // GOARCH; GOOS is linux
	OutDir          string // receives cmdbd, cmdb-agent and the connectors
	ModuleDir       string // as Options.ModuleDir
	Log             io.Writer
}

// Connectors are the connector executables we ship; the cmdbd package
// installs them in ConnectorDir, where `cmdbd connector add --binary`
// finds them.
var Connectors = []string{"cmdb-connector-csv", "cmdb-connector-intune", "cmdb-connector-snipeit"}

// ConnectorDir is where the cmdbd package installs the connectors.
const ConnectorDir = "/usr/lib/cmdb/connectors"

// BuildBinaries builds cmdbd, cmdb-agent and the connectors for linux/Arch as static
// binaries (CGO_ENABLED=0) with -trimpath and the version and commit set.
func BuildBinaries(ctx context.Context, o BinaryOptions) error {
	if o.Log == nil {
		o.Log = io.Discard
	}
	for _, cmd := range append([]string{"cmdbd", "cmdb-agent"}, Connectors...) {
		args := []string{"build", "-trimpath", "-ldflags", "-s -w " + buildinfo.LDFlags(o.Version, o.Commit),
			"-o", filepath.Join(o.OutDir, cmd), "./cmd/" + cmd}
		c := exec.CommandContext(ctx, "go", args...)
		c.Dir = o.ModuleDir
		c.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+o.Arch)
		fmt.Fprintf(o.Log, "GOARCH=%s CGO_ENABLED=0 go %s\n", o.Arch, strings.Join(args, " "))
		if out, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("pkgbuild: building %s for %s: %v\n%s", cmd, o.Arch, err, out)
		}
	}
	return nil
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

const (
	maintainer = "Schul-IT CMDB <cmdb@schulit.invalid>"
	homepage   = "https://github.com/schulit/cmdb"
	license    = "Proprietary"
)

func serverInfo(dir, bin string) *nfpm.Info {
	return &nfpm.Info{
		Name:          "cmdbd",
		VersionSchema: "none",
		Section:       "net",
		Priority:      "optional",
		Maintainer:    maintainer,
		Homepage:      homepage,
		License:       license,
		Description: "CMDB and device-sync server for school authorities\n" +
			"Keeps every device of the schools known: agents, SNMP polling and\n" +
			"connectors feed one configuration database with a JSON API.",
		Overridables: nfpm.Overridables{
			Depends: []string{"adduser", "passwd"},
			// The private PostgreSQL needs the server binaries; not needed
			// with CMDB_DATABASE_URL.
			Recommends: []string{"postgresql"},
			Contents: append(files.Contents{
				{Source: filepath.Join(bin, "cmdbd"), Destination: "/usr/bin/cmdbd", FileInfo: &files.ContentFileInfo{Mode: 0o755}},
				{Source: filepath.Join(dir, "cmdbd.service"), Destination: "/usr/lib/systemd/system/cmdbd.service", FileInfo: &files.ContentFileInfo{Mode: 0o644}},
				{Source: filepath.Join(dir, "cmdbd.env"), Destination: "/etc/cmdb/cmdbd.env", Type: files.TypeConfig, FileInfo: &files.ContentFileInfo{Mode: 0o600}},
			}, connectorContents(bin)...),
			Scripts: nfpm.Scripts{
				PostInstall: filepath.Join(dir, "cmdbd.postinst"),
				PreRemove:   filepath.Join(dir, "cmdbd.prerm"),
				PostRemove:  filepath.Join(dir, "cmdbd.postrm"),
			},
		},
	}
}

// connectorContents are the connector executables in the cmdbd package.
func connectorContents(bin string) files.Contents {
	var c files.Contents
	for _, name := range Connectors {
		c = append(c, &files.Content{Source: filepath.Join(bin, name), Destination: ConnectorDir + "/" + name, FileInfo: &files.ContentFileInfo{Mode: 0o755}})
	}
	return c
}

func agentInfo(dir, bin string) *nfpm.Info {
	return &nfpm.Info{
		Name:          "cmdb-agent",
		VersionSchema: "none",
		Section:       "admin",
		Priority:      "optional",
		Maintainer:    maintainer,
		Homepage:      homepage,
		License:       license,
		Description: "Inventory agent of the school authority's CMDB\n" +
			"Reports this machine's hardware, operating system, software and\n" +
			"health to the CMDB server. Enrol once with cmdb-agent enroll.",
		Overridables: nfpm.Overridables{
			Contents: files.Contents{
				{Source: filepath.Join(bin, "cmdb-agent"), Destination: "/usr/bin/cmdb-agent", FileInfo: &files.ContentFileInfo{Mode: 0o755}},
				{Source: filepath.Join(dir, "cmdb-agent.service"), Destination: "/usr/lib/systemd/system/cmdb-agent.service", FileInfo: &files.ContentFileInfo{Mode: 0o644}},
			},
			Scripts: nfpm.Scripts{
				PostInstall: filepath.Join(dir, "cmdb-agent.postinst"),
				PreRemove:   filepath.Join(dir, "cmdb-agent.prerm"),
				PostRemove:  filepath.Join(dir, "cmdb-agent.postrm"),
			},
		},
	}
}

// pack validates info and writes its .deb into outDir.
func pack(info *nfpm.Info, outDir string) (Package, error) {
	info = nfpm.WithDefaults(info)
	if err := nfpm.PrepareForPackager(info, "deb"); err != nil {
		return Package{}, fmt.Errorf("pkgbuild: %s: %w", info.Name, err)
	}
	path := filepath.Join(outDir, deb.Default.ConventionalFileName(info))
	f, err := os.Create(path)
	if err != nil {
		return Package{}, err
	}
	if err := deb.Default.Package(info, f); err != nil {
		f.Close()
		os.Remove(path)
		return Package{}, fmt.Errorf("pkgbuild: packing %s: %w", info.Name, err)
	}
	if err := f.Close(); err != nil {
		return Package{}, err
	}
	return Package{Name: info.Name, Arch: info.Arch, Path: path}, nil
}
