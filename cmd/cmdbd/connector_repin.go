package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/server/cmdb"
)

// connectorRepin pins anew the executables of the instances that run an
// installed connector (one in the connector directory): a package upgrade
// replaces those files, and a pinned SHA-256 that no longer matches stops
// every run. Each new executable is started once and must be a connector
// of the instance's plugin (and able to push, if the instance pushes); the
// store audits each change (connector_updated, with the old and new
// SHA-256). Instances whose executable lies elsewhere are left alone: a
// file someone put in a folder of their own is theirs to vouch for
// (connector add --replace).
func (m *Main) connectorRepin(ctx context.Context, f connectorFlags) error {
	if (f.name == "") == !f.all {
		return errors.New("give --name NAME (with --authority) or --all")
	}
	if f.name != "" && f.authority == "" {
		return errors.New("--name needs --authority")
	}
	if f.connectorDir != "" {
		m.Config.ConnectorDir = f.connectorDir
	}
	dir, err := filepath.Abs(m.connectorDir())
	if err != nil || dir == "" {
		return fmt.Errorf("--connector-dir: %v", err)
	}
	m.Config.DataDir = f.dataDir
	if err := m.openDB(ctx, f.db, f.dataDir); err != nil {
		return err
	}
	s := cmdb.AdminScope("cli")
	var auths []*cmdb.Authority
	if f.authority != "" {
		a, err := m.authorityByCode(ctx, s, f.authority)
		if err != nil {
			return err
		}
		auths = []*cmdb.Authority{a}
	} else if auths, err = m.db.FindAuthorities(ctx, s); err != nil {
		return err
	}
	failed, found := 0, false
	for _, a := range auths {
		list, err := m.db.FindConnectors(ctx, s, a.ID)
		if err != nil {
			return err
		}
		for _, inst := range list {
			if f.name != "" && inst.Name != f.name {
				continue
			}
			found = true
			if filepath.Dir(inst.BinaryPath) != dir {
				if f.name != "" {
					return fmt.Errorf("connector %s of %s runs %s, which is not in the connector directory %s; register it anew with connector add --replace",
						inst.Name, a.Code, inst.BinaryPath, dir)
				}
				fmt.Fprintf(m.Stdout, "connector %s of %s: skipped, %s is not in %s\n", inst.Name, a.Code, inst.BinaryPath, dir)
				continue
			}
			if err := m.repinOne(ctx, s, a, inst); err != nil {
				failed++
				fmt.Fprintf(m.Stdout, "connector %s of %s: not re-pinned: %v\n", inst.Name, a.Code, err)
			}
		}
	}
	if f.name != "" && !found {
		return fmt.Errorf("connector %q of %s: no such instance", f.name, f.authority)
	}
	if failed > 0 {
		return fmt.Errorf("connector repin: %d instance(s) not re-pinned; they keep their old pin and do not run", failed)
	}
	return nil
}

// repinOne re-pins one instance whose executable changed.
func (m *Main) repinOne(ctx context.Context, s cmdb.Scope, a *cmdb.Authority, inst *cmdb.ConnectorInstance) error {
	sum, err := fileSHA256(inst.BinaryPath)
	if err != nil {
		return err
	}
	if sum == inst.BinarySHA256 {
		fmt.Fprintf(m.Stdout, "connector %s of %s: unchanged (SHA-256 %s…)\n", inst.Name, a.Code, sum[:12])
		return nil
	}
	// describeBinary pins what it hashes as it starts it: what was asked
	// is what gets pinned.
	desc, sum, err := m.describeBinary(ctx, inst.BinaryPath)
	if err != nil {
		return fmt.Errorf("%s is not a usable connector: %w", inst.BinaryPath, err)
	}
	if desc.Name != inst.Plugin {
		return fmt.Errorf("%s is now the connector %q, not %q", inst.BinaryPath, desc.Name, inst.Plugin)
	}
	if err := cmdb.CheckPush(desc.Name, inst.Push, desc.Can(connector.CapPush)); err != nil {
		return errors.New(cmdb.ErrorMessage(err))
	}
	old := inst.BinarySHA256
	if _, err := m.db.UpdateConnector(ctx, s, inst.ID, cmdb.ConnectorUpdate{BinarySHA256: &sum}); err != nil {
		return fmt.Errorf("%s%s", fieldPrefix(err), cmdb.ErrorMessage(err))
	}
	fmt.Fprintf(m.Stdout, "connector %s of %s: re-pinned plugin %s %s, SHA-256 %s… → %s…\n", inst.Name, a.Code,
		desc.Name, desc.Version, old[:12], sum[:12])
	return nil
}
