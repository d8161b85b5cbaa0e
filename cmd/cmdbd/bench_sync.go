package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/connsync"
)

// benchSync is "cmdbd bench sync": it generates a CSV of f.rows devices,
// syncs it into a fresh authority through the real csv connector
// subprocess, then syncs it again unchanged, and prints rows/s, seconds
// and peak memory of both. Without --db it runs on a throwaway private
// PostgreSQL.
func (m *Main) benchSync(ctx context.Context, f connectorFlags) error {
	if f.rows <= 0 || f.rows > 2_000_000 {
		return errors.New("--rows must be between 1 and 2000000")
	}
	tmp, err := os.MkdirTemp("", "cmdb-bench-sync-")
	if err != nil {
		return err
	}
	os.Chmod(tmp, 0o755) // as root, PostgreSQL runs as the postgres user
	defer os.RemoveAll(tmp)
	dataDir := f.dataDir
	if f.db == "" {
		dataDir = filepath.Join(tmp, "data")
	}
	m.Config.DataDir = dataDir
	bin, err := csvConnector(f.bin, tmp)
	if err != nil {
		return err
	}
	if err := m.openDB(ctx, f.db, dataDir); err != nil {
		return err
	}
	s := cmdb.AdminScope("bench")
	auth := &cmdb.Authority{Code: fmt.Sprintf("BENCH-%d", time.Now().Unix()), Name: "Landkreis Benchmark"}
	if err := m.db.CreateAuthority(ctx, s, auth); err != nil {
		return err
	}
	const schools, rooms = 20, 30
	for i := range schools {
		sch := &cmdb.School{AuthorityID: auth.ID, Code: fmt.Sprintf("S%02d", i), Name: fmt.Sprintf("Schule %02d", i)}
		if err := m.db.CreateSchool(ctx, s, sch); err != nil {
			return err
		}
		b := &cmdb.Building{SchoolID: sch.ID, Code: "H", Name: "Hauptgebäude"}
		if err := m.db.CreateBuilding(ctx, s, b); err != nil {
			return err
		}
		for r := range rooms {
			if err := m.db.CreateRoom(ctx, s, &cmdb.Room{BuildingID: b.ID, Code: fmt.Sprintf("R%03d", r), Name: fmt.Sprintf("Raum %03d", r)}); err != nil {
				return err
			}
		}
	}
	file := filepath.Join(tmp, "inventar.csv")
	if err := writeBenchCSV(file, f.rows, schools, rooms); err != nil {
		return err
	}
	sum, err := fileSHA256(bin)
	if err != nil {
		return err
	}
	inst := &cmdb.ConnectorInstance{AuthorityID: auth.ID, Name: "inventar", Plugin: "csv", BinaryPath: bin, BinarySHA256: sum,
		Settings: []byte(fmt.Sprintf(`{"path": %q, "key_column": "Inventarnummer"}`, file)), DeletePolicy: cmdb.DeleteRetire}
	if err := m.db.CreateConnector(ctx, s, inst, nil); err != nil {
		return err
	}
	e := connsync.New(connsync.Options{Store: m.db, Logger: m.log})
	defer e.Close()
	fmt.Fprintf(m.Stdout, "bench sync: %d rows, %d schools × %d rooms, csv connector %s\n", f.rows, schools, rooms, bin)
	for i, label := range []string{"first sync", "unchanged re-sync"} {
		stopProfile, err := startCPUProfile(f.cpuProfile, []string{".first", ".resync"}[i])
		if err != nil {
			return err
		}
		start := time.Now()
		run, err := e.Run(ctx, s, inst, connsync.RunOptions{})
		took := time.Since(start)
		stopProfile()
		if err != nil {
			return err
		}
		if run.Status != cmdb.RunSucceeded {
			return fmt.Errorf("%s: %s: %s", label, run.Status, run.Failure)
		}
		fmt.Fprintf(m.Stdout, "%-18s %d rows in %.2fs = %.0f rows/s (created %d, updated %d, unchanged %d, errors %d); peak heap %s, connector %s\n",
			label+":", run.Seen, took.Seconds(), float64(run.Seen)/took.Seconds(), run.Created, run.Updated, run.Unchanged,
			run.Errors, mib(run.PeakMemoryBytes), mib(run.PluginMemoryBytes))
	}
	return nil
}

// startCPUProfile profiles the host's side of one run (the connector is
// its own process), to find where a sync spends its time.
func startCPUProfile(path, suffix string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	out, err := os.Create(path + suffix)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); out.Close() }, nil
}

// csvConnector finds the csv connector: --binary, else beside cmdbd, else
// built from the source tree with go build.
func csvConnector(flagged, tmp string) (string, error) {
	if flagged != "" {
		return filepath.Abs(flagged)
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "cmdb-connector-csv")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	out := filepath.Join(tmp, "cmdb-connector-csv")
	cmd := exec.Command("go", "build", "-o", out, "github.com/schulit/cmdb/cmd/cmdb-connector-csv")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("no csv connector (give --binary): go build: %v\n%s", err, b)
	}
	return out, nil
}

// writeBenchCSV writes a German Excel CSV of n devices spread over the
// schools and rooms.
func writeBenchCSV(path string, n, schools, rooms int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	classes := []string{"Laptop", "Beamer", "Drucker", "Interaktives Display", "Tablet", "PC"}
	vendors := []string{"Dell", "Epson", "HP", "Promethean", "Apple", "Lenovo"}
	statuses := []string{"in Betrieb", "in Betrieb", "in Betrieb", "Lager", "Reparatur"}
	fmt.Fprint(w, "Inventarnummer;Seriennummer;Gerätetyp;Hersteller;Modell;Schulnummer;Raum;Status;Anschaffungsdatum;MAC-Adresse\r\n")
	for i := range n {
		c := i % len(classes)
		fmt.Fprintf(w, "INV-%07d;SN%08X;%s;%s;Modell %d;S%02d;R%03d;%s;%02d.%02d.%d;02:00:%02x:%02x:%02x:%02x\r\n",
			i, i*7919+13, classes[c], vendors[c], i%40, i%schools, (i/schools)%rooms, statuses[i%len(statuses)],
			1+i%28, 1+i%12, 2018+i%7, byte(i>>24), byte(i>>16), byte(i>>8), byte(i))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
