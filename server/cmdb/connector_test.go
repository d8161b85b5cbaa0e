package cmdb_test

import (
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
)

// TestConnectorMappingValidate: a target that is no attribute — a typo,
// well-formed but unknown — is refused naming the entry and the rule,
// instead of silently dropping the field (or, for allowed, every field
// the source sets); known attributes, identifiers and free attributes
// under a namespace pass.
func TestConnectorMappingValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		m     cmdb.ConnectorMapping
		field string // "" : valid
	}{
		{"core attribute", cmdb.ConnectorMapping{Fields: map[string]string{"Garantie": "warranty_end", "Typ": "model"}}, ""},
		{"identifier", cmdb.ConnectorMapping{Fields: map[string]string{"X": "serial", "Rechnername": "hostname"}}, ""},
		{"free attribute under inventory", cmdb.ConnectorMapping{Fields: map[string]string{"Kostenstelle": "inventory.kostenstelle"}}, ""},
		{"dropped", cmdb.ConnectorMapping{Fields: map[string]string{"Fach": ""}}, ""},
		{"unknown attribute", cmdb.ConnectorMapping{Fields: map[string]string{"Farbe": "garantie_endee"}}, "mapping.fields.Farbe"},
		{"unknown namespace", cmdb.ConnectorMapping{Fields: map[string]string{"Farbe": "farbe.rot"}}, "mapping.fields.Farbe"},
		{"namespace alone", cmdb.ConnectorMapping{Fields: map[string]string{"Farbe": "inventory"}}, "mapping.fields.Farbe"},
		{"class as a field", cmdb.ConnectorMapping{Fields: map[string]string{"Typ": "class"}}, "mapping.fields.Typ"},
		{"allowed core", cmdb.ConnectorMapping{Allowed: []string{"model", "class", "room", "serial", "source_device_id", "inventory.kostenstelle"}}, ""},
		{"allowed typo", cmdb.ConnectorMapping{Allowed: []string{"class", "modell"}}, "mapping.allowed[1]"},
	} {
		err := tc.m.Validate()
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.field != "" && (cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != tc.field):
			t.Errorf("%s: %v (field %q), want EINVALID naming %s", tc.name, err, cmdb.ErrorField(err), tc.field)
		}
	}
}
