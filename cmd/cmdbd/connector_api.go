package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/server/api"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/connsync"
)

// The API's connector host: the same engine as the scheduler's (m.syncs),
// so API runs are background jobs of the server, stopped by Close.

var pluginNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// packagedConnectorDir is where the Debian package installs the
// connectors (internal/pkgbuild.ConnectorDir; not imported, that would
// link nFPM into cmdbd).
const packagedConnectorDir = "/usr/lib/cmdb/connectors"

// connectorDir is where installed connectors live, named
// cmdb-connector-<plugin>: --connector-dir (CMDB_CONNECTOR_DIR), else
// defaultConnectorDir.
func (m *Main) connectorDir() string {
	if m.Config.ConnectorDir != "" {
		return m.Config.ConnectorDir
	}
	exeDir := ""
	if exe, err := os.Executable(); err == nil {
		exeDir = filepath.Dir(exe)
	}
	return defaultConnectorDir(exeDir, packagedConnectorDir)
}

// defaultConnectorDir is the folder cmdbd lies in when a connector lies
// beside it (a build tree: bin/cmdbd, bin/cmdb-connector-csv), else the
// package's folder when it exists (/usr/bin/cmdbd holds no connectors),
// else the folder of cmdbd.
func defaultConnectorDir(exeDir, packaged string) string {
	if exeDir != "" {
		if m, _ := filepath.Glob(filepath.Join(exeDir, "cmdb-connector-*")); len(m) > 0 {
			return exeDir
		}
	}
	if st, err := os.Stat(packaged); err == nil && st.IsDir() {
		return packaged
	}
	return exeDir
}

// describeBinary pins an executable by its SHA-256 and starts it once: it
// must be a connector, and it names its plugin (as connector add does).
func (m *Main) describeBinary(ctx context.Context, bin string) (connector.Description, string, error) {
	sum, err := fileSHA256(bin)
	if err != nil {
		return connector.Description{}, "", err
	}
	raw, _ := hex.DecodeString(sum)
	c, stop, err := connector.LaunchWith(ctx, bin, m.log, connector.Options{SHA256: raw})
	if err != nil {
		return connector.Description{}, "", err
	}
	defer stop()
	desc, err := c.Describe(ctx)
	return desc, sum, err
}

// apiConnectorBinary resolves an installed plugin's name (or, for
// admins, whom the API alone lets name a path, any absolute path).
func (m *Main) apiConnectorBinary(ctx context.Context, sc cmdb.Scope, plugin, path string) (api.ConnectorBinary, error) {
	field := "binary_path"
	if path == "" {
		field = "plugin"
		if !pluginNameRE.MatchString(plugin) {
			return api.ConnectorBinary{}, cmdb.Invalid("plugin", "must be the name of an installed connector: lower-case letters, digits, '-' or '_'")
		}
		path = filepath.Join(m.connectorDir(), "cmdb-connector-"+plugin)
		if st, err := os.Stat(path); err != nil || st.IsDir() {
			return api.ConnectorBinary{}, cmdb.Invalid("plugin", "no connector %q is installed on the server (cmdb-connector-%s in its connector directory)", plugin, plugin)
		}
	} else if !sc.Admin {
		return api.ConnectorBinary{}, cmdb.Errorf(cmdb.EFORBIDDEN, "Only platform admins may register a connector by its path.")
	} else if !filepath.IsAbs(path) {
		return api.ConnectorBinary{}, cmdb.Invalid("binary_path", "must be an absolute path to the connector executable")
	}
	desc, sum, err := m.describeBinary(ctx, path)
	if err != nil {
		// The launcher's message says why (not executable, no handshake);
		// it names no secret.
		return api.ConnectorBinary{}, cmdb.Invalid(field, "is not a usable connector: %v", err)
	}
	if plugin != "" && desc.Name != plugin {
		return api.ConnectorBinary{}, cmdb.Invalid("plugin", "the installed executable is the connector %q, not %q", desc.Name, plugin)
	}
	return api.ConnectorBinary{Plugin: desc.Name, Path: path, SHA256: sum, CanPush: desc.Can(connector.CapPush)}, nil
}

func (m *Main) apiCheckConnector(ctx context.Context, sc cmdb.Scope, inst *cmdb.ConnectorInstance) (api.ConnectorCheck, error) {
	res, err := m.syncs.Check(ctx, sc, inst)
	if err != nil {
		if cmdb.ErrorCode(err) != cmdb.EINTERNAL {
			return api.ConnectorCheck{}, err
		}
		// A connector that cannot start is the answer, not a server error.
		return api.ConnectorCheck{Message: fmt.Sprintf("Der Connector kann nicht gestartet werden: %v", err), Problems: []api.ConnectorProblem{}}, nil
	}
	out := api.ConnectorCheck{OK: res.OK, Message: res.Message, Problems: []api.ConnectorProblem{}}
	for _, p := range res.Problems {
		out.Problems = append(out.Problems, api.ConnectorProblem{Field: p.Field, Rule: p.Rule, Message: p.Message})
	}
	return out, nil
}

// apiDescribeConnector says whether an instance's pinned executable can
// push; one that cannot start is a bad request naming the field push.
func (m *Main) apiDescribeConnector(ctx context.Context, sc cmdb.Scope, inst *cmdb.ConnectorInstance) (bool, error) {
	desc, err := m.syncs.Describe(ctx, inst)
	if err != nil {
		return false, cmdb.Invalid("push", "the connector cannot be started to ask whether it can write back: %v", err)
	}
	return desc.Can(connector.CapPush), nil
}

func (m *Main) apiStartSync(sc cmdb.Scope, inst *cmdb.ConnectorInstance, o api.SyncOptions) (*cmdb.ConnectorRun, error) {
	return m.syncs.Start(sc, inst, connsync.RunOptions{DryRun: o.DryRun, Confirm: o.Confirm})
}
