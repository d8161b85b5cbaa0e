package api

import (
	_ "embed"
	"net/http"

	"github.com/schulit/cmdb/server/cmdb"
)

// openAPI is the description of this API, served as it is in the source.
//
//go:embed openapi.yaml
var openAPI []byte

// serveOpenAPI answers GET /api/v1/openapi.yaml, without signing in: the
// description holds no tenant data.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request, _ cmdb.Scope) error {
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(openAPI)
	return nil
}
