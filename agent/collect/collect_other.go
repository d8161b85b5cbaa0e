//go:build !linux && !windows && !darwin

package collect

import (
	"context"

	"github.com/shirou/gopsutil/v4/disk"

	"github.com/schulit/cmdb/agentproto"
)

func platformSystem(context.Context, Options, *agentproto.InventorySystem) {}

func platformNICKind(_ Options, name string) string {
	if IsVirtualName(name) {
		return KindVirtual
	}
	return KindPhysical
}

func platformBattery(Options) *agentproto.Battery { return nil }

func platformDiskInfo(Options, string) (string, string) { return "", "" }

func skipPartition(disk.PartitionStat) bool { return false }

func platformSoftware(context.Context, Options) []agentproto.SoftwareItem { return nil }
