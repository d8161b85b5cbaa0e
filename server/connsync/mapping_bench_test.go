package connsync

import (
	"fmt"
	"testing"

	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/server/cmdb"
)

// BenchmarkMapAndHash is the host's cost of one unchanged record.
func BenchmarkMapAndHash(b *testing.B) {
	inst := &cmdb.ConnectorInstance{ID: 1, AuthorityID: 1, Name: "inventar"}
	p := newPlaces([]*cmdb.School{{ID: 1, AuthorityID: 1, Code: "S01", Name: "Schule 01"}},
		[]*cmdb.Room{{ID: 1, SchoolID: 1, Code: "R001", Name: "Raum 001"}})
	rec := connector.Record{SourceKey: "INV-1", ClassHint: "Laptop", Status: "in Betrieb", Origin: "inventar.csv Zeile 2",
		Identifiers: connector.Identifiers{Serial: "SN0001", AssetTag: "INV-1", MACs: []string{"02:00:00:00:00:01"}},
		Attributes:  map[string]string{"vendor": "Dell", "model": "Latitude", "purchase_date": "2022-01-03"},
		Location:    connector.Location{SchoolCode: "S01", Room: "R001"}}
	for i := 0; b.Loop(); i++ {
		m := mapRecord(inst, p, &rec)
		if m.err != nil {
			b.Fatal(fmt.Sprint(m.err))
		}
		_ = hash(&m)
	}
}
