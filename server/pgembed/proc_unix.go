//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package pgembed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// account is the operating-system user the cluster runs as when this process
// is root (PostgreSQL refuses to run as root).
type account struct {
	name   string
	uid    uint32
	gid    uint32
	groups []uint32
}

// lookupAccount returns nil when the current user can run PostgreSQL itself.
// As root it returns the owner of dir when dir exists and belongs to another
// user (a cluster a service account such as cmdb runs; root's commands must
// not take it over), else the "postgres" system user.
func lookupAccount(dir string) (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	if fi, err := os.Stat(dir); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
			u, err := user.LookupId(strconv.FormatUint(uint64(st.Uid), 10))
			if err != nil {
				return nil, fmt.Errorf("%s belongs to uid %d, which is no known user: %w", dir, st.Uid, err)
			}
			return accountOf(u)
		}
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, so the private PostgreSQL must run as the system user \"postgres\", "+
			"but it does not exist (%v); install the Debian package `postgresql` (apt-get install postgresql), which creates it, "+
			"or run cmdbd as a non-root user", err)
	}
	return accountOf(u)
}

func accountOf(u *user.User) (*account, error) {
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user %s has a non-numeric uid/gid %q/%q", u.Username, u.Uid, u.Gid)
	}
	a := &account{name: u.Username, uid: uint32(uid), gid: uint32(gid)}
	if ids, err := u.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.ParseUint(s, 10, 32); err == nil {
				a.groups = append(a.groups, uint32(g))
			}
		}
	}
	return a, nil
}

// sysProcAttr makes a child process run as the account (nil: as ourselves).
func (a *account) sysProcAttr() *syscall.SysProcAttr {
	if a == nil {
		return nil
	}
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: a.uid, Gid: a.gid, Groups: a.groups}}
}

// chown gives path to the account; a no-op when a is nil.
func (a *account) chown(path string) error {
	if a == nil {
		return nil
	}
	return os.Lchown(path, int(a.uid), int(a.gid))
}

// owns reports whether path is owned by the account (always true when a is nil).
func (a *account) owns(path string) bool {
	if a == nil {
		return true
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == a.uid
}

// checkTraversable verifies that the account may search every ancestor of dir.
func (a *account) checkTraversable(dir string) error {
	if a == nil {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		m := fi.Mode().Perm()
		var can bool
		switch {
		case st.Uid == a.uid:
			can = m&0o100 != 0
		case st.Gid == a.gid || slices.Contains(a.groups, st.Gid):
			can = m&0o010 != 0
		default:
			can = m&0o001 != 0
		}
		if !can {
			return fmt.Errorf("PostgreSQL runs as the system user %q, which cannot enter directory %s (mode %v, owner uid %d); "+
				"choose a --data-dir below a directory every user can traverse, such as /var/lib/cmdb or /tmp, or run `chmod o+x %s`",
				a.name, p, m, st.Uid, p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// lockFile takes an exclusive inter-process lock on path (created if needed),
// polling until ctx is done. The returned function releases it.
func lockFile(ctx context.Context, path string, owner *account) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	_ = owner.chown(path)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("waiting for lock %s (another cmdbd process is starting this cluster): %w", path, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// procState classifies the process named in a postmaster.pid file.
type procState int

const (
	procDead     procState = iota // no such process
	procPostgres                  // alive and (as far as we can tell) a postgres
	procForeign                   // alive but certainly not a postgres (pid reused), or a zombie
)

func processState(pid int) procState {
	if pid <= 0 {
		return procDead
	}
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return procDead
	}
	proc := "/proc/" + strconv.Itoa(pid)
	if stat, err := os.ReadFile(proc + "/stat"); err == nil {
		if i := strings.LastIndexByte(string(stat), ')'); i >= 0 {
			if f := strings.Fields(string(stat[i+1:])); len(f) > 0 && (f[0] == "Z" || f[0] == "X") {
				return procForeign
			}
		}
	}
	if exe, err := os.Readlink(proc + "/exe"); err == nil {
		base := filepath.Base(exe)
		if !strings.HasPrefix(base, "postgres") && !strings.HasPrefix(base, "postmaster") {
			return procForeign
		}
	}
	return procPostgres
}
