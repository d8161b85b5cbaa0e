// Command cmdb-connector-intune is the CMDB connector for Microsoft
// Intune with Windows Autopilot. The CMDB server starts it; run by hand
// it says so and exits.
package main

import (
	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/plugins/intune"
)

func main() {
	connector.Serve(intune.New())
}
