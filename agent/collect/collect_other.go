//go:build !linux && !windows && !darwin

package collect

import (
	"context"

	"github.com/shirou/gopsutil/v4/disk"

	"github.com/schulit/cmdb/server/cmdb"
)

func platformSystem(context.Context, Options, *cmdb.InventorySystem) {}

func platformNICKind(_ Options, name string) string {
	if IsVirtualName(name) {
		return KindVirtual
	}
	return KindPhysical
}

func platformBattery(Options) *cmdb.Battery { return nil }

func platformDiskInfo(Options, string) (string, string) { return "", "" }

func skipPartition(disk.PartitionStat) bool { return false }

func platformSoftware(context.Context, Options) []cmdb.SoftwareItem { return nil }
