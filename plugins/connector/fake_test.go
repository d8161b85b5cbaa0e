package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// fake is a connector for the tests: it pulls n generated records and
// pushes into a map.
type fake struct {
	n      int
	pushed []Change
}

func (f *fake) Describe(context.Context) (Description, error) {
	return Description{Name: "fake", Version: "1.0.0", Capabilities: []Capability{CapPull, CapPush},
		ConfigSchema: json.RawMessage(`{"type":"object"}`),
		Secrets:      []SecretSpec{{Name: "token", Description: "API-Token", Required: true}}}, nil
}

func (f *fake) Check(_ context.Context, cfg Config) (CheckResult, error) {
	var s struct {
		Fail bool `json:"fail"`
	}
	if err := cfg.Decode(&s); err != nil {
		return CheckResult{}, err
	}
	if s.Fail {
		return CheckResult{}, errors.New("Prüfung abgebrochen: Testfehler")
	}
	if cfg.Secrets["token"].Reveal() != "geheim" {
		return CheckResult{OK: false, Message: "Das Token wurde abgelehnt.",
			Problems: []Problem{{Field: "token", Rule: "credentials", Message: "abgelehnt"}}}, nil
	}
	return CheckResult{OK: true, Message: "Verbindung steht."}, nil
}

func (f *fake) Pull(ctx context.Context, _ Config, emit func([]Record) error) error {
	// Everything in one call: the adapter must split it.
	batch := make([]Record, f.n)
	for i := range batch {
		batch[i] = fakeRecord(i)
	}
	return emit(batch)
}

func (f *fake) Push(_ context.Context, _ Config, changes []Change) (PushResult, error) {
	f.pushed = append(f.pushed, changes...)
	r := PushResult{}
	for _, c := range changes {
		if c.Identifiers.Serial == "" {
			r.Failures = append(r.Failures, PushFailure{SourceKey: c.SourceKey, Message: "Seriennummer fehlt"})
			continue
		}
		r.Applied++
	}
	return r, nil
}

func fakeRecord(i int) Record {
	return Record{
		SourceKey: "K" + strconv.Itoa(i), ClassHint: "Beamer",
		Identifiers: Identifiers{Serial: fmt.Sprintf("SN%06d", i), MACs: []string{"aa:bb:cc:dd:ee:ff"}, AssetTag: "INV-" + strconv.Itoa(i),
			HardwareUUID: "4c4c4544-0000-1000-8000-000000000000", SourceDeviceID: "dev-" + strconv.Itoa(i), Hostname: "pc" + strconv.Itoa(i)},
		Attributes: map[string]string{AttrVendor: "Epson", AttrModel: "EB-695Wi", "Bemerkung": "Lampe prüfen"},
		Location:   Location{SchoolCode: "GYN", SchoolName: "Gymnasium Nord", Building: "Haus A", Room: "1.16"},
		Status:     "in Betrieb", Deleted: i%7 == 0, Origin: "Zeile " + strconv.Itoa(i+2),
		Problems: []Problem{{Field: "mac", Rule: "format", Message: "keine MAC-Adresse: xx"}},
	}
}

// faulty is run in a re-executed test binary (see TestMain) and misbehaves
// as CMDB_CONNECTOR_TEST_MODE says.
type faulty struct {
	NoPush
	mode string
}

func (f *faulty) Describe(context.Context) (Description, error) {
	return Description{Name: "faulty", Version: "0", Capabilities: []Capability{CapPull}}, nil
}

func (f *faulty) Check(ctx context.Context, _ Config) (CheckResult, error) {
	if f.mode == "hang" {
		select {} // ignores its context, as a truly hung connector would
	}
	return CheckResult{OK: true, Message: "ok"}, nil
}

func (f *faulty) Pull(ctx context.Context, _ Config, emit func([]Record) error) error {
	for i := 0; ; i++ {
		if i == 3 {
			switch f.mode {
			case "crash":
				os.Exit(3)
			case "panic":
				panic("connector bug")
			case "hang":
				select {}
			}
		}
		batch := make([]Record, 100)
		for j := range batch {
			batch[j] = Record{SourceKey: strconv.Itoa(i*100 + j)}
		}
		if err := emit(batch); err != nil {
			return err
		}
		if f.mode == "chatty" {
			fmt.Println("Stapel", i, "gesendet")
		}
		if (f.mode == "ok" || f.mode == "chatty") && i == 9 {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
}
