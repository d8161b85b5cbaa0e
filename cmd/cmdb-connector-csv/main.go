// Command cmdb-connector-csv is the CMDB connector for inventory
// spreadsheets (CSV and XLSX). The CMDB server starts it; run by hand it
// says so and exits.
package main

import (
	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/plugins/csv"
)

func main() {
	connector.Serve(csv.New())
}
