package api

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// ConnectorBinary is a connector executable resolved and pinned for an
// instance: the plugin's own name (from Describe), its path and SHA-256.
type ConnectorBinary struct {
	Plugin, Path, SHA256 string
	// CanPush says the connector has the "push" capability.
	CanPush bool
}

// ConnectorCheck is what a connector's Check said.
type ConnectorCheck struct {
	OK       bool               `json:"ok"`
	Message  string             `json:"message"`
	Problems []ConnectorProblem `json:"problems"`
}

// ConnectorProblem names a setting (or record field), the rule it breaks
// and says so in words.
type ConnectorProblem struct {
	Field   string `json:"field"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// SyncOptions say how a run started through the API goes.
type SyncOptions struct {
	DryRun  bool `json:"dry_run"`
	Confirm bool `json:"confirm"`
}

// connectorRoutes are the routes of the connector host: instances of an
// authority, their check and their runs. The store answers ENOTFOUND for
// an instance or run outside the caller's scope (authority IT, admins).
func (s *Server) connectorRoutes() []Route {
	return []Route{
		{"GET", "/api/v1/authorities/{id}/connectors", true, s.listConnectors},
		{"POST", "/api/v1/authorities/{id}/connectors", true, s.createConnector},
		{"GET", "/api/v1/connectors/{id}", true, s.getConnector},
		{"PATCH", "/api/v1/connectors/{id}", true, s.updateConnector},
		{"DELETE", "/api/v1/connectors/{id}", true, noContent(func(r *http.Request, sc cmdb.Scope, id int64) error {
			cs, err := s.connectors()
			if err != nil {
				return err
			}
			return cs.DeleteConnector(r.Context(), sc, id)
		})},
		{"POST", "/api/v1/connectors/{id}/check", true, s.checkConnector},
		{"POST", "/api/v1/connectors/{id}/runs", true, s.startConnectorRun},
		{"GET", "/api/v1/connectors/{id}/runs", true, s.listConnectorRuns},
		{"GET", "/api/v1/connector-runs/{id}", true, s.getConnectorRun},
		{"POST", "/api/v1/connector-runs/{id}/cancel", true, s.cancelConnectorRun},
	}
}

func (s *Server) connectors() (cmdb.ConnectorStore, error) {
	if s.opts.Connectors != nil {
		return s.opts.Connectors, nil
	}
	if cs, ok := s.opts.Tickets.(cmdb.ConnectorStore); ok {
		return cs, nil
	}
	return nil, cmdb.Errorf(cmdb.ENOTIMPLEMENTED, "This server runs no connectors.")
}

// connectorBody is an instance as the API accepts it. Secrets are
// write-only: responses carry only secret_names.
type connectorBody struct {
	Name string `json:"name"`
	// Plugin names a connector installed in the server's connector
	// directory; BinaryPath (admins only) any executable.
	Plugin           string                `json:"plugin"`
	BinaryPath       string                `json:"binary_path"`
	Settings         json.RawMessage       `json:"settings"`
	Secrets          map[string]string     `json:"secrets"`
	Schedule         string                `json:"schedule"`
	Mapping          cmdb.ConnectorMapping `json:"mapping"`
	DeletePolicy     string                `json:"delete_policy"`
	DisposeAfterDays int                   `json:"dispose_after_days"`
	GuardShare       float64               `json:"guard_share"`
	Push             bool                  `json:"push"`
}

// connectorPatch changes an instance; absent fields stay. A plugin or
// binary_path given re-pins the executable (after an upgrade).
type connectorPatch struct {
	Plugin           *string                `json:"plugin"`
	BinaryPath       *string                `json:"binary_path"`
	Settings         *json.RawMessage       `json:"settings"`
	Secrets          map[string]string      `json:"secrets"`
	Schedule         *string                `json:"schedule"`
	Mapping          *cmdb.ConnectorMapping `json:"mapping"`
	DeletePolicy     *string                `json:"delete_policy"`
	DisposeAfterDays *int                   `json:"dispose_after_days"`
	GuardShare       *float64               `json:"guard_share"`
	Push             *bool                  `json:"push"`
}

// resolveBinary turns what the caller named into a pinned executable.
// Only admins may name a path: anyone else could have the server run any
// program on it.
func (s *Server) resolveBinary(ctx context.Context, sc cmdb.Scope, plugin, path string) (ConnectorBinary, error) {
	if path != "" && !sc.Admin {
		return ConnectorBinary{}, &cmdb.Error{Code: cmdb.EFORBIDDEN, Field: "binary_path",
			Message: "Only platform admins may register a connector by its path; name an installed plugin instead."}
	}
	if plugin != "" && path != "" {
		return ConnectorBinary{}, cmdb.Invalid("plugin", "give plugin or binary_path, not both")
	}
	if plugin == "" && path == "" {
		return ConnectorBinary{}, cmdb.Invalid("plugin", "is required: the name of an installed connector, e.g. csv")
	}
	if s.opts.ConnectorBinary == nil {
		return ConnectorBinary{}, cmdb.Errorf(cmdb.ENOTIMPLEMENTED, "This server runs no connectors.")
	}
	return s.opts.ConnectorBinary(ctx, sc, plugin, path)
}

func (s *Server) listConnectors(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	cs, err := s.connectors()
	if err != nil {
		return err
	}
	if _, err := s.opts.Tenants.FindAuthorityByID(r.Context(), sc, id); err != nil {
		return err
	}
	out, err := cs.FindConnectors(r.Context(), sc, id)
	if err != nil {
		return err
	}
	writeJSON(w, 200, list[*cmdb.ConnectorInstance]{Items: out, Total: len(out)})
	return nil
}

func (s *Server) createConnector(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	cs, err := s.connectors()
	if err != nil {
		return err
	}
	var in connectorBody
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	// The authority first: nobody starts a program for an authority they
	// cannot see, and the store checks again.
	if _, err := s.opts.Tenants.FindAuthorityByID(r.Context(), sc, id); err != nil {
		return err
	}
	if !sc.CanSeeAuthority(id) {
		return cmdb.Errorf(cmdb.ENOTFOUND, "No such authority: %d.", id)
	}
	if err := s.checkImportPath(sc, in.Settings); err != nil {
		return err
	}
	bin, err := s.resolveBinary(r.Context(), sc, in.Plugin, in.BinaryPath)
	if err != nil {
		return err
	}
	if err := cmdb.CheckPush(bin.Plugin, in.Push, bin.CanPush); err != nil {
		return err
	}
	inst := &cmdb.ConnectorInstance{AuthorityID: id, Name: in.Name, Plugin: bin.Plugin, BinaryPath: bin.Path,
		BinarySHA256: bin.SHA256, Settings: in.Settings, Schedule: in.Schedule, Mapping: in.Mapping,
		DeletePolicy: in.DeletePolicy, DisposeAfterDays: in.DisposeAfterDays, GuardShare: in.GuardShare, Push: in.Push}
	if err := cs.CreateConnector(r.Context(), sc, inst, in.Secrets); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/connectors/"+strconv.FormatInt(inst.ID, 10))
	writeJSON(w, http.StatusCreated, inst)
	return nil
}

func (s *Server) getConnector(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	inst, err := s.connectorOf(r, sc)
	if err != nil {
		return err
	}
	writeJSON(w, 200, inst)
	return nil
}

// connectorOf returns the instance of the path's id, within the scope.
func (s *Server) connectorOf(r *http.Request, sc cmdb.Scope) (*cmdb.ConnectorInstance, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	cs, err := s.connectors()
	if err != nil {
		return nil, err
	}
	return cs.FindConnectorByID(r.Context(), sc, id)
}

func (s *Server) updateConnector(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var in connectorPatch
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	inst, err := s.connectorOf(r, sc)
	if err != nil {
		return err
	}
	if in.Settings != nil {
		if err := s.checkImportPath(sc, *in.Settings); err != nil {
			return err
		}
	}
	u := cmdb.ConnectorUpdate{Settings: in.Settings, Secrets: in.Secrets, Schedule: in.Schedule, Mapping: in.Mapping,
		DeletePolicy: in.DeletePolicy, DisposeAfterDays: in.DisposeAfterDays, GuardShare: in.GuardShare, Push: in.Push}
	push := inst.Push
	if in.Push != nil {
		push = *in.Push
	}
	if in.Plugin != nil || in.BinaryPath != nil {
		bin, err := s.resolveBinary(r.Context(), sc, deref(in.Plugin), deref(in.BinaryPath))
		if err != nil {
			return err
		}
		if bin.Plugin != inst.Plugin {
			return cmdb.Invalid("plugin", "the executable is the connector %q, not %q; make a new instance for it", bin.Plugin, inst.Plugin)
		}
		// A new executable of a push instance must push too.
		if err := cmdb.CheckPush(bin.Plugin, push, bin.CanPush); err != nil {
			return err
		}
		u.BinaryPath, u.BinarySHA256 = &bin.Path, &bin.SHA256
	} else if push && !inst.Push {
		if s.opts.DescribeConnector == nil {
			return cmdb.Errorf(cmdb.ENOTIMPLEMENTED, "This server runs no connectors.")
		}
		// Turning push on asks the pinned executable whether it can.
		can, err := s.opts.DescribeConnector(r.Context(), sc, inst)
		if err != nil {
			return err
		}
		if err := cmdb.CheckPush(inst.Plugin, push, can); err != nil {
			return err
		}
	}
	cs, _ := s.connectors()
	out, err := cs.UpdateConnector(r.Context(), sc, inst.ID, u)
	if err != nil {
		return err
	}
	writeJSON(w, 200, out)
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *Server) checkConnector(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	inst, err := s.connectorOf(r, sc)
	if err != nil {
		return err
	}
	if s.opts.CheckConnector == nil {
		return cmdb.Errorf(cmdb.ENOTIMPLEMENTED, "This server runs no connectors.")
	}
	res, err := s.opts.CheckConnector(r.Context(), sc, inst)
	if err != nil {
		return err
	}
	if res.Problems == nil {
		res.Problems = []ConnectorProblem{}
	}
	writeJSON(w, 200, res)
	return nil
}

func (s *Server) startConnectorRun(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var in SyncOptions
	if r.ContentLength != 0 {
		if err := decode(w, r, maxBody, &in); err != nil {
			return err
		}
	}
	inst, err := s.connectorOf(r, sc)
	if err != nil {
		return err
	}
	if s.opts.StartSync == nil {
		return cmdb.Errorf(cmdb.ENOTIMPLEMENTED, "This server runs no connectors.")
	}
	// The run goes on in the server's background, not in this request.
	run, err := s.opts.StartSync(sc, inst, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/connector-runs/"+strconv.FormatInt(run.ID, 10))
	writeJSON(w, http.StatusAccepted, run)
	return nil
}

func (s *Server) listConnectorRuns(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = 50
	} else if limit > 500 {
		return cmdb.Invalid("limit", "must be at most 500")
	}
	cs, err := s.connectors()
	if err != nil {
		return err
	}
	runs, err := cs.FindConnectorRuns(r.Context(), sc, id, int(limit))
	if err != nil {
		return err
	}
	// A dry run's plan can hold thousands of entries: the list leaves it
	// out, GET /connector-runs/{id} has it.
	for _, run := range runs {
		run.Plan = nil
	}
	writeJSON(w, 200, list[*cmdb.ConnectorRun]{Items: runs, Total: len(runs), Limit: int(limit)})
	return nil
}

func (s *Server) getConnectorRun(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	cs, err := s.connectors()
	if err != nil {
		return err
	}
	run, err := cs.FindConnectorRun(r.Context(), sc, id)
	if err != nil {
		return err
	}
	writeJSON(w, 200, run)
	return nil
}

func (s *Server) cancelConnectorRun(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	cs, err := s.connectors()
	if err != nil {
		return err
	}
	if err := cs.CancelConnectorRun(r.Context(), sc, id); err != nil {
		return err
	}
	// The run stops at its next batch; it is running until then.
	run, err := cs.FindConnectorRun(r.Context(), sc, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, run)
	return nil
}

// checkImportPath keeps a connector's file inside the import directory:
// a connector runs as the server, so settings.path set through the API
// could otherwise have the server read any file it can open (its own
// keys, other authorities' exports). Platform admins may name any file,
// as they may name any binary.
func (s *Server) checkImportPath(sc cmdb.Scope, settings json.RawMessage) error {
	if sc.Admin || len(settings) == 0 {
		return nil
	}
	var in struct {
		Path *string `json:"path"`
	}
	if err := json.Unmarshal(settings, &in); err != nil || in.Path == nil {
		return nil // the store and the connector judge the settings' form
	}
	dir := s.opts.ImportDir
	if dir == "" {
		return &cmdb.Error{Code: cmdb.EFORBIDDEN, Field: "settings.path", Message: "Only a platform admin may name a file here: this server has no import directory."}
	}
	p := filepath.Clean(*in.Path)
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	if realDir, err := filepath.EvalSymlinks(dir); err == nil {
		dir = realDir
	}
	rel, err := filepath.Rel(dir, p)
	if !filepath.IsAbs(*in.Path) || err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return cmdb.Invalid("settings.path", "must be a file in the import directory %s (CMDB_IMPORT_DIR)", s.opts.ImportDir)
	}
	return nil
}
