// Command cmdb-connector-example serves the example connector.
package main

import (
	"github.com/schulit/cmdb/plugins/connector"
	"github.com/schulit/cmdb/plugins/example"
)

func main() { connector.Serve(example.Connector{}) }
