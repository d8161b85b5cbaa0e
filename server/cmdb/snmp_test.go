package cmdb_test

import (
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
)

// TestSNMPCredentialValidateLooseValues refuses values that no device is
// configured with, naming the field, and never echoes the secret.
func TestSNMPCredentialValidateLooseValues(t *testing.T) {
	v3 := func(edit func(*cmdb.SNMPCredential)) cmdb.SNMPCredential {
		c := cmdb.SNMPCredential{Name: "v3", Version: "3", User: "cmdb", AuthProto: "SHA", AuthPass: "auth-pass-1",
			PrivProto: "AES", PrivPass: "priv-pass-1"}
		edit(&c)
		return c
	}
	for _, tt := range []struct {
		name  string
		c     cmdb.SNMPCredential
		field string // "" = valid
	}{
		{"v2c", cmdb.SNMPCredential{Version: "2c", Community: "public"}, ""},
		{"v3", v3(func(*cmdb.SNMPCredential) {}), ""},
		{"community on a v3 profile", v3(func(c *cmdb.SNMPCredential) { c.Community = "s3cr3t-c0mm" }), "community"},
		{"NUL in a community", cmdb.SNMPCredential{Version: "2c", Community: "pub\x00lic"}, "community"},
		{"line break in a community", cmdb.SNMPCredential{Version: "1", Community: "public\n"}, "community"},
		{"DEL in a community", cmdb.SNMPCredential{Version: "2c", Community: "pub\x7flic"}, "community"},
		{"NUL in an auth pass", v3(func(c *cmdb.SNMPCredential) { c.AuthPass = "auth-pass\x00" }), "auth_pass"},
		{"tab in a priv pass", v3(func(c *cmdb.SNMPCredential) { c.PrivPass = "priv\tpass-1" }), "priv_pass"},
		{"control char in a user", v3(func(c *cmdb.SNMPCredential) { c.User = "cm\x1bdb" }), "user"},
		{"v3 user on a v2c profile", cmdb.SNMPCredential{Version: "2c", Community: "public", User: "cmdb"}, "user"},
		{"priv pass on a v1 profile", cmdb.SNMPCredential{Version: "1", Community: "public", PrivPass: "priv-pass-1"}, "priv_pass"},
		{"NUL in a PJLink password", cmdb.SNMPCredential{Version: "pjlink", AuthPass: "beam\x00er"}, "auth_pass"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != tt.field {
				t.Fatalf("Validate = %v, want EINVALID on %q", err, tt.field)
			}
			for _, s := range []string{tt.c.Community.Reveal(), tt.c.AuthPass.Reveal(), tt.c.PrivPass.Reveal()} {
				if s != "" && strings.Contains(err.Error(), s) {
					t.Fatalf("the error %q shows a secret", err)
				}
			}
		})
	}
}
