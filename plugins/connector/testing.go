package connector

import (
	"testing"

	"github.com/hashicorp/go-plugin"
)

// InProcess connects impl to a host-side Connector over real gRPC inside
// the test's process (go-plugin's TestPluginGRPCConn): a connector's tests
// go through the same adapters the host uses, without a build. It stops
// with the test.
func InProcess(tb testing.TB, impl Connector) Connector {
	tb.Helper()
	client, _ := plugin.TestPluginGRPCConn(tb, false, map[string]plugin.Plugin{pluginName: &grpcPlugin{impl: impl}})
	tb.Cleanup(func() { _ = client.Close() })
	raw, err := client.Dispense(pluginName)
	if err != nil {
		tb.Fatal(err)
	}
	return raw.(Connector)
}
