package pgembed

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// defaultGlobRoot is the directory under which Debian-style installations
// keep one <version>/bin directory per PostgreSQL major version.
const defaultGlobRoot = "/usr/lib/postgresql"

// serverBinaries are the programs that must all be present in a binary
// directory for it to be usable.
var serverBinaries = []string{"initdb", "pg_ctl", "postgres"}

// FindBinDir locates the directory holding the PostgreSQL server binaries
// (initdb, pg_ctl and postgres) and returns its absolute path.
//
// If explicit is not empty it is authoritative: it is returned when it holds
// all three binaries and an error naming it is returned otherwise (there is no
// fallback, so a mistyped directory is never silently replaced by another
// installation). Otherwise initdb and pg_ctl are looked up on PATH with
// symlinks resolved (so /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb
// yields the real directory with its sibling binaries), and then the highest
// version under /usr/lib/postgresql/*/bin is used. If nothing is found the
// error tells the user to install PostgreSQL or to use an existing database.
func FindBinDir(explicit string) (string, error) {
	return findBinDir(explicit, defaultGlobRoot)
}

// notFoundMessage is the error text used when no binaries were found; root is
// the directory searched for <version>/bin subdirectories.
func notFoundMessage(root string) string {
	return "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH or under " +
		filepath.Join(root, "*", "bin") +
		"; install them with `apt-get install postgresql` (Debian) or pass --db / CMDB_DATABASE_URL to use an existing database"
}

func findBinDir(explicit, root string) (string, error) {
	if explicit != "" {
		abs, err := filepath.Abs(explicit)
		if err == nil {
			err = checkBinDir(abs)
		}
		if err != nil {
			return "", fmt.Errorf("PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found in %s: %v; "+
				"install them with `apt-get install postgresql` (Debian) or pass --db / CMDB_DATABASE_URL to use an existing database",
				explicit, err)
		}
		return abs, nil
	}
	for _, name := range []string{"initdb", "pg_ctl"} {
		p, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if p, err = filepath.Abs(p); err != nil {
			continue
		}
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		if d := filepath.Dir(p); checkBinDir(d) == nil {
			return d, nil
		}
	}
	matches, _ := filepath.Glob(filepath.Join(root, "*", "bin"))
	sort.Slice(matches, func(i, j int) bool {
		return versionLess(filepath.Base(filepath.Dir(matches[j])), filepath.Base(filepath.Dir(matches[i])))
	})
	for _, d := range matches {
		if checkBinDir(d) == nil {
			return d, nil
		}
	}
	return "", errors.New(notFoundMessage(root))
}

// checkBinDir reports whether dir holds executable initdb, pg_ctl and postgres.
func checkBinDir(dir string) error {
	for _, name := range serverBinaries {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("%s is missing", name)
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return fmt.Errorf("%s is not an executable file", name)
		}
	}
	return nil
}

// versionLess compares directory names such as "9.6", "15" and "16" numerically.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		na, nb := versionPart(pa, i), versionPart(pb, i)
		if na != nb {
			return na < nb
		}
	}
	return a < b
}

func versionPart(parts []string, i int) int {
	if i >= len(parts) {
		return 0
	}
	n, err := strconv.Atoi(parts[i])
	if err != nil {
		return -1
	}
	return n
}

// clientTool returns the path of a client program (psql, createdb), preferring
// the server binary directory so that versions match.
func clientTool(binDir, name string) string {
	p := filepath.Join(binDir, name)
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
		return p
	}
	if lp, err := exec.LookPath(name); err == nil {
		return lp
	}
	return p
}
