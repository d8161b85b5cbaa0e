// Command cmdb-connector-snipeit is the CMDB connector for Snipe-IT.
// The CMDB server starts it; run by hand it says so and exits.
package main

import (
	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/plugins/snipeit"
)

func main() {
	connector.Serve(snipeit.New())
}
