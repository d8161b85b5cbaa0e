package cmdb_test

import (
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
)

func TestDefaultServicesAreValid(t *testing.T) {
	for _, s := range cmdb.DefaultServices() {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
	}
}

func TestFormValidate(t *testing.T) {
	ok := cmdb.FormField{Key: "raum", Label: "Raum", Type: cmdb.FieldRoom}
	for name, c := range map[string]struct {
		form  []cmdb.FormField
		field string
	}{
		"bad key":          {[]cmdb.FormField{{Key: "Raum-1", Label: "Raum", Type: "text"}}, "form[0].key"},
		"duplicate key":    {[]cmdb.FormField{ok, ok}, "form[1].key"},
		"unknown type":     {[]cmdb.FormField{{Key: "a", Label: "A", Type: "colour"}}, "form[0].type"},
		"select without":   {[]cmdb.FormField{{Key: "a", Label: "A", Type: "select"}}, "form[0].options"},
		"options on text":  {[]cmdb.FormField{{Key: "a", Label: "A", Type: "text", Options: []string{"x"}}}, "form[0].options"},
		"no label":         {[]cmdb.FormField{{Key: "a", Type: "text"}}, "form[0].label"},
		"max_length on ci": {[]cmdb.FormField{{Key: "a", Label: "A", Type: "ci", MaxLength: 5}}, "form[0].max_length"},
	} {
		if err := cmdb.ValidateForm(c.form); cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != c.field {
			t.Errorf("%s: %v, want invalid naming %s", name, err, c.field)
		}
	}
	two, one := 60, 30
	s := cmdb.Service{Name: "X", ResponseMinutes: &two, ResolveMinutes: &one}
	if err := s.Validate(); cmdb.ErrorField(err) != "resolve_minutes" {
		t.Errorf("resolve before response: %v", err)
	}
}

func TestValidateAnswers(t *testing.T) {
	form := []cmdb.FormField{
		{Key: "software", Label: "Software", Type: cmdb.FieldText, Required: true, MaxLength: 10},
		{Key: "anzahl", Label: "Anzahl", Type: cmdb.FieldNumber},
		{Key: "bis", Label: "Bis", Type: cmdb.FieldDate},
		{Key: "geraet", Label: "Gerät", Type: cmdb.FieldSelect, Options: []string{"Laptop", "Tablet"}},
		{Key: "ok", Label: "OK", Type: cmdb.FieldCheckbox, Required: true},
		{Key: "raum", Label: "Raum", Type: cmdb.FieldRoom},
	}
	good := func() map[string]any {
		return map[string]any{"software": " GeoGebra ", "anzahl": "3,5", "bis": "24.12.2026", "geraet": "Tablet", "ok": true, "raum": float64(7)}
	}
	got, err := cmdb.ValidateAnswers(form, good())
	if err != nil {
		t.Fatal(err)
	}
	if got["software"] != "GeoGebra" || got["anzahl"] != 3.5 || got["bis"] != "2026-12-24" || got["raum"] != int64(7) {
		t.Fatalf("normalised answers: %#v", got)
	}
	for name, c := range map[string]struct {
		key   string
		value any
		rule  string
	}{
		"required":      {"software", "  ", "is required"},
		"too long":      {"software", "Mathematik-Software", "is too long: at most 10 characters"},
		"not a number":  {"anzahl", "drei", "is not a number"},
		"not a date":    {"bis", "31.02.2026", `is not a date: write dd.mm.yyyy or yyyy-mm-dd, not "31.02.2026"`},
		"not an option": {"geraet", "Beamer", "is not an option: must be one of Laptop, Tablet"},
		"unticked":      {"ok", false, "is required: it must be ticked"},
		"unknown field": {"farbe", "rot", "is not a field of the service's form"},
		"bad room":      {"raum", "Raum 1", "must be a room id"},
	} {
		a := good()
		a[c.key] = c.value
		_, err := cmdb.ValidateAnswers(form, a)
		if cmdb.ErrorField(err) != "form_answers."+c.key || cmdb.ErrorMessage(err) != c.rule {
			t.Errorf("%s: %v, want form_answers.%s: %s", name, err, c.key, c.rule)
		}
	}
}
