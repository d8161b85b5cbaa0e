//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package pgembed

import (
	"context"
	"errors"
	"syscall"
)

var errUnsupported = errors.New("the private PostgreSQL cluster is not supported on this operating system; pass --db / CMDB_DATABASE_URL to use an existing database")

type account struct{}

func lookupAccount(string) (*account, error)                     { return nil, errUnsupported }
func (a *account) sysProcAttr() *syscall.SysProcAttr             { return nil }
func (a *account) chown(string) error                            { return nil }
func (a *account) owns(string) bool                              { return true }
func (a *account) checkTraversable(string) error                 { return nil }
func lockFile(context.Context, string, *account) (func(), error) { return nil, errUnsupported }

type procState int

const (
	procDead procState = iota
	procPostgres
	procForeign
)

func processState(int) procState { return procDead }
