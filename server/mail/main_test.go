package mail_test

import (
	"crypto/tls"
	"testing"

	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

func tlsTrusting(r *relay) *tls.Config {
	return &tls.Config{RootCAs: r.CAs, MinVersion: tls.VersionTLS12}
}
