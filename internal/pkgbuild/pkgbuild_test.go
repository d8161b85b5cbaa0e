package pkgbuild

import (
	"bufio"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// moduleDir is the root of the module (two levels above this package).
func moduleDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// buildBins builds the binaries for arch once per test.
func buildBins(t *testing.T, arch, version, commit string) string {
	t.Helper()
	dir := t.TempDir()
	err := BuildBinaries(context.Background(), BinaryOptions{Version: version, Commit: commit, Arch: arch,
		OutDir: filepath.Join(dir, arch), ModuleDir: moduleDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// pkgs packs prebuilt binaries as version and returns the .deb paths by name.
func pkgs(t *testing.T, bins, arch, version string) map[string]string {
	t.Helper()
	built, err := Build(context.Background(), Options{Version: version, Arches: []string{arch}, OutDir: t.TempDir(), BinDir: bins, Compression: "none"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range built {
		if p.Arch != arch {
			t.Errorf("%s built for %q, want %q", p.Path, p.Arch, arch)
		}
		out[p.Name] = p.Path
	}
	if len(out) != 2 || out["cmdbd"] == "" || out["cmdb-agent"] == "" {
		t.Fatalf("built %v, want cmdbd and cmdb-agent", out)
	}
	return out
}

func need(t *testing.T, cmds ...string) {
	t.Helper()
	for _, c := range cmds {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("%s is not installed", c)
		}
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func field(t *testing.T, deb, name string) string {
	t.Helper()
	return strings.TrimSpace(run(t, "dpkg-deb", "--field", deb, name))
}

func TestVersionIsChecked(t *testing.T) {
	for _, v := range []string{"", "v1.0.0", "1.0 beta", "1.0-1", "1;rm"} {
		if _, err := Build(context.Background(), Options{Version: v, OutDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "version") {
			t.Errorf("version %q: err %v, want one naming the version", v, err)
		}
	}
}

// TestArm64Packages checks the arm64 packages without installing them:
// the architecture field, the files and that the binaries are static
// AArch64 executables.
func TestArm64Packages(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries")
	}
	need(t, "dpkg-deb")
	debs := pkgs(t, buildBins(t, "arm64", "1.0.0", "c0ffee"), "arm64", "1.0.0")
	for name, deb := range debs {
		if got := field(t, deb, "Architecture"); got != "arm64" {
			t.Errorf("%s: Architecture %q, want arm64", name, got)
		}
		if got := field(t, deb, "Version"); got != "1.0.0" {
			t.Errorf("%s: Version %q, want 1.0.0", name, got)
		}
		contents := run(t, "dpkg-deb", "--contents", deb)
		want := []string{"./usr/bin/" + name, "./usr/lib/systemd/system/" + name + ".service"}
		if name == "cmdbd" {
			for _, c := range Connectors {
				want = append(want, "."+ConnectorDir+"/"+c)
			}
		}
		for _, f := range want {
			if !strings.Contains(contents, f+"\n") {
				t.Errorf("%s lacks %s:\n%s", name, f, contents)
			}
		}
		root := t.TempDir()
		run(t, "dpkg-deb", "--extract", deb, root)
		f, err := elf.Open(filepath.Join(root, "usr", "bin", name))
		if err != nil {
			t.Fatal(err)
		}
		if f.Machine != elf.EM_AARCH64 {
			t.Errorf("%s: machine %v, want EM_AARCH64", name, f.Machine)
		}
		checkStatic(t, name, f)
		f.Close()
	}
}

// checkStatic fails unless f needs no dynamic loader and no shared library.
func checkStatic(t *testing.T, name string, f *elf.File) {
	t.Helper()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has an ELF interpreter: it is dynamically linked", name)
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("%s needs shared libraries %v (%v)", name, libs, err)
	}
}

// TestInstallUpgradeRemovePurge installs the amd64 packages on this
// machine with dpkg (as root only), checks files, the user and the units,
// upgrades, removes and purges them. It leaves the machine as it was, also
// when it fails.
func TestInstallUpgradeRemovePurge(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and installs the packages")
	}
	need(t, "dpkg", "dpkg-deb", "systemd-analyze")
	bins := buildBins(t, "amd64", "1.0.0", "c0ffee")
	v1, v2 := pkgs(t, bins, "amd64", "1.0.0"), pkgs(t, bins, "amd64", "1.0.1")

	// What can be checked without installing.
	for name, deb := range v1 {
		if got := field(t, deb, "Architecture"); got != "amd64" {
			t.Errorf("%s: Architecture %q, want amd64", name, got)
		}
	}
	if got := field(t, v1["cmdbd"], "Recommends"); !strings.Contains(got, "postgresql") {
		t.Errorf("cmdbd recommends %q, want postgresql (binaries of the private cluster)", got)
	}
	ctrl := t.TempDir()
	run(t, "dpkg-deb", "--control", v1["cmdbd"], ctrl)
	if conf, _ := os.ReadFile(filepath.Join(ctrl, "conffiles")); strings.TrimSpace(string(conf)) != "/etc/cmdb/cmdbd.env" {
		t.Errorf("cmdbd conffiles = %q, want /etc/cmdb/cmdbd.env", conf)
	}

	if os.Geteuid() != 0 {
		t.Skip("installing the packages needs root")
	}
	if exec.Command("dpkg-query", "-W", "cmdbd").Run() == nil || exec.Command("dpkg-query", "-W", "cmdb-agent").Run() == nil {
		t.Skip("cmdbd or cmdb-agent is installed on this machine; not touching it")
	}
	if _, err := user.Lookup("cmdb"); err == nil {
		t.Skip("a user cmdb exists on this machine; not touching it")
	}
	leftovers := []string{"/var/lib/cmdb", "/etc/cmdb", "/var/lib/cmdb-agent",
		"/etc/systemd/system/multi-user.target.wants/cmdbd.service", "/etc/systemd/system/multi-user.target.wants/cmdb-agent.service"}
	for _, p := range leftovers {
		if _, err := os.Lstat(p); err == nil {
			t.Skipf("%s exists on this machine; not touching it", p)
		}
	}
	t.Cleanup(func() {
		stopPostmaster("/var/lib/cmdb/pg/data/postmaster.pid")
		if out, err := exec.Command("dpkg", "--purge", "cmdbd", "cmdb-agent").CombinedOutput(); err != nil {
			t.Logf("cleanup: dpkg --purge: %v\n%s", err, out)
		}
		// Should the packages' purge be broken, the machine is still left
		// as it was: none of these existed before.
		for _, p := range leftovers {
			os.RemoveAll(p)
		}
		if _, err := user.Lookup("cmdb"); err == nil {
			exec.Command("userdel", "cmdb").Run()
		}
		if _, err := user.LookupGroup("cmdb"); err == nil {
			exec.Command("groupdel", "cmdb").Run()
		}
		// A purge that failed half-way leaves dpkg remembering the package.
		for _, p := range []string{"cmdbd", "cmdb-agent"} {
			if exec.Command("dpkg-query", "-W", p).Run() == nil {
				exec.Command("dpkg", "--purge", "--force-all", p).Run()
			}
		}
	})

	run(t, "dpkg", "--install", v1["cmdbd"], v1["cmdb-agent"])

	// Files.
	for path, mode := range map[string]os.FileMode{
		"/usr/bin/cmdbd": 0o755, "/usr/bin/cmdb-agent": 0o755,
		"/usr/lib/systemd/system/cmdbd.service": 0o644, "/usr/lib/systemd/system/cmdb-agent.service": 0o644,
		"/etc/cmdb/cmdbd.env": 0o600, // may hold the database password and the secret key
	} {
		if fi, err := os.Stat(path); err != nil {
			t.Errorf("after install: %v", err)
		} else if fi.Mode().Perm() != mode {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), mode)
		}
	}
	env, _ := os.ReadFile("/etc/cmdb/cmdbd.env")
	for _, key := range []string{"#CMDB_LISTEN=127.0.0.1:8080", "#CMDB_DATABASE_URL=", "#CMDB_DATA_DIR=/var/lib/cmdb", "#CMDB_SECRET_KEY="} {
		if !strings.Contains(string(env), "\n"+key) {
			t.Errorf("cmdbd.env lacks the commented default %s", key)
		}
	}
	if out := run(t, "/usr/bin/cmdbd", "version"); !strings.HasPrefix(out, "cmdbd 1.0.0 (commit c0ffee, go") {
		t.Errorf("cmdbd version printed %q", out)
	}
	if out := run(t, "/usr/bin/cmdb-agent", "version"); !strings.HasPrefix(out, "cmdb-agent 1.0.0 (commit c0ffee, go") {
		t.Errorf("cmdb-agent version printed %q", out)
	}

	// The user.
	u, err := user.Lookup("cmdb")
	if err != nil {
		t.Fatalf("no user cmdb after install: %v", err)
	}
	if uid, _ := strconv.Atoi(u.Uid); uid >= 1000 || uid == 0 {
		t.Errorf("cmdb has uid %s, want a system uid (1-999)", u.Uid)
	}
	if _, err := user.LookupGroup("cmdb"); err != nil {
		t.Errorf("no group cmdb: %v", err)
	}
	checkOwner(t, "/var/lib/cmdb", u, 0o700)

	// The units: valid, and the server's well hardened.
	out, err := exec.Command("systemd-analyze", "verify", "/usr/lib/systemd/system/cmdbd.service", "/usr/lib/systemd/system/cmdb-agent.service").CombinedOutput()
	if err != nil || strings.Contains(string(out), "cmdb") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	for unit, max := range map[string]float64{"cmdbd": 2.5, "cmdb-agent": 4} {
		if got := exposure(t, "/usr/lib/systemd/system/"+unit+".service"); got > max {
			t.Errorf("%s.service: systemd-analyze security exposure %.1f, want at most %.1f", unit, got, max)
		}
	}
	unit, _ := os.ReadFile("/usr/lib/systemd/system/cmdbd.service")
	for _, want := range []string{"User=cmdb", "StateDirectory=cmdb", "EnvironmentFile=-/etc/cmdb/cmdbd.env", "NoNewPrivileges=yes",
		"ProtectSystem=strict", "PrivateTmp=yes", "ProtectHome=yes"} {
		if !strings.Contains(string(unit), "\n"+want+"\n") {
			t.Errorf("cmdbd.service lacks %s", want)
		}
	}

	// The server runs as cmdb the way the unit starts it, private
	// PostgreSQL included (no root, so no switch to user postgres).
	serveAsUnit(t, u)

	// Upgrade: data and edited settings survive.
	if err := os.WriteFile("/var/lib/cmdb/keep.txt", []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	edited := string(env) + "CMDB_LISTEN=0.0.0.0:8443\n"
	if err := os.WriteFile("/etc/cmdb/cmdbd.env", []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, "dpkg", "--install", v2["cmdbd"], v2["cmdb-agent"])
	if got := strings.TrimSpace(run(t, "dpkg-query", "-W", "-f", "${Version}", "cmdbd")); got != "1.0.1" {
		t.Errorf("after upgrade cmdbd is %q, want 1.0.1", got)
	}
	if b, err := os.ReadFile("/var/lib/cmdb/keep.txt"); err != nil || string(b) != "data" {
		t.Errorf("upgrade lost /var/lib/cmdb/keep.txt: %q %v", b, err)
	}
	if b, _ := os.ReadFile("/etc/cmdb/cmdbd.env"); string(b) != edited {
		t.Errorf("upgrade changed the edited cmdbd.env:\n%s", b)
	}
	if u2, err := user.Lookup("cmdb"); err != nil || u2.Uid != u.Uid {
		t.Errorf("upgrade changed the user cmdb: %v %v", u2, err)
	}
	if _, err := os.Stat("/var/lib/cmdb/pg/data/PG_VERSION"); err != nil {
		t.Errorf("upgrade lost the private cluster: %v", err)
	}

	// Remove: the programs go, data and settings stay.
	run(t, "dpkg", "--remove", "cmdbd", "cmdb-agent")
	for _, gone := range []string{"/usr/bin/cmdbd", "/usr/bin/cmdb-agent", "/usr/lib/systemd/system/cmdbd.service"} {
		if _, err := os.Stat(gone); err == nil {
			t.Errorf("%s is still there after dpkg --remove", gone)
		}
	}
	for _, kept := range []string{"/var/lib/cmdb/keep.txt", "/var/lib/cmdb/pg/data/PG_VERSION", "/etc/cmdb/cmdbd.env"} {
		if _, err := os.Stat(kept); err != nil {
			t.Errorf("dpkg --remove deleted it: %v", err)
		}
	}

	// Purge: nothing is left.
	run(t, "dpkg", "--purge", "cmdbd", "cmdb-agent")
	for _, gone := range []string{"/var/lib/cmdb", "/etc/cmdb", "/var/lib/cmdb-agent",
		"/etc/systemd/system/multi-user.target.wants/cmdbd.service", "/etc/systemd/system/multi-user.target.wants/cmdb-agent.service"} {
		if _, err := os.Lstat(gone); err == nil {
			t.Errorf("%s is still there after dpkg --purge", gone)
		}
	}
	if _, err := user.Lookup("cmdb"); err == nil {
		t.Error("user cmdb is still there after dpkg --purge")
	}
	if _, err := user.LookupGroup("cmdb"); err == nil {
		t.Error("group cmdb is still there after dpkg --purge")
	}
	if exec.Command("dpkg-query", "-W", "cmdbd").Run() == nil {
		t.Error("dpkg still knows cmdbd after --purge")
	}
}

func checkOwner(t *testing.T, path string, u *user.User, mode os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Error(err)
		return
	}
	st := fi.Sys().(*syscall.Stat_t)
	if strconv.Itoa(int(st.Uid)) != u.Uid || fi.Mode().Perm() != mode {
		t.Errorf("%s: uid %d mode %v, want uid %s (cmdb) mode %v", path, st.Uid, fi.Mode().Perm(), u.Uid, mode)
	}
}

var exposureRE = regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)

// exposure is systemd-analyze security's score of a unit file (0 safe, 10 exposed).
func exposure(t *testing.T, unit string) float64 {
	t.Helper()
	out, _ := exec.Command("systemd-analyze", "security", "--offline=yes", "--no-pager", unit).CombinedOutput()
	m := exposureRE.FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security %s printed no score:\n%s", unit, out)
	}
	f, _ := strconv.ParseFloat(string(m[1]), 64)
	return f
}

// serveAsUnit runs /usr/bin/cmdbd serve as the user cmdb with the unit's
// environment and checks that it serves with its private PostgreSQL in
// /var/lib/cmdb.
func serveAsUnit(t *testing.T, u *user.User) {
	t.Helper()
	if _, err := exec.LookPath("runuser"); err != nil {
		t.Log("runuser is missing: not starting the server")
		return
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cmd := exec.Command("/usr/bin/cmdbd", "serve")
	cmd.Dir = "/var/lib/cmdb"
	cmd.Env = []string{"PATH=/usr/bin:/bin", "CMDB_DATA_DIR=/var/lib/cmdb", "CMDB_LOG_FORMAT=json", "CMDB_LISTEN=127.0.0.1:0"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	url := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			var line struct{ Msg, URL string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				select {
				case url <- line.URL:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-done
		cmd.Wait()
	}
	var base string
	select {
	case base = <-url:
	case <-done:
		cmd.Wait()
		t.Fatalf("cmdbd serve as user cmdb stopped:\n%s", logs.String())
	case <-time.After(2 * time.Minute):
		stop()
		t.Fatalf("cmdbd serve as user cmdb did not start:\n%s", logs.String())
	}
	resp, err := http.Get(base + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("GET /readyz: %v %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
	// An admin's command as root uses the running cluster as cmdb, and
	// does not take it over.
	tok := exec.Command("/usr/bin/cmdbd", "token", "create", "--admin", "--data-dir", "/var/lib/cmdb")
	tok.Env = []string{"PATH=/usr/bin:/bin"}
	var tokErr strings.Builder
	tok.Stderr = &tokErr
	if out, err := tok.Output(); err != nil || !strings.HasPrefix(string(out), "cmdb_") {
		t.Errorf("cmdbd token create as root: %v\n%s%s", err, out, tokErr.String())
	} else {
		req, _ := http.NewRequest("GET", base+"/api/v1/authorities", nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(out)))
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
			t.Errorf("the token made as root does not work: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
	}
	stop()
	checkOwner(t, "/var/lib/cmdb/pg", u, 0o700)
	checkOwner(t, "/var/lib/cmdb/secret.key", u, 0o600)
	if t.Failed() {
		fmt.Fprintln(os.Stderr, logs.String())
	}
}

// stopPostmaster stops the private PostgreSQL a failed test may have left
// running (its pid is the first line of postmaster.pid) and waits, bounded,
// until it has gone.
func stopPostmaster(pidFile string) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil || pid <= 1 {
		return
	}
	syscall.Kill(pid, syscall.SIGQUIT) // immediate shutdown
	for range 100 {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
