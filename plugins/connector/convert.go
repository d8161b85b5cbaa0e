package connector

import (
	pb "github.com/schulit/cmdb/plugins/connector/proto"
)

// Conversions between the Go contract and its protobuf form. They are
// total: every field of one has its place in the other.

func configToPB(c Config) *pb.Config {
	p := &pb.Config{Settings: c.Settings}
	if len(c.Secrets) > 0 {
		p.Secrets = make(map[string]string, len(c.Secrets))
		for k, v := range c.Secrets {
			p.Secrets[k] = v.Reveal()
		}
	}
	return p
}

func configFromPB(p *pb.Config) Config {
	c := Config{Settings: p.GetSettings()}
	if len(p.GetSecrets()) > 0 {
		c.Secrets = make(map[string]Secret, len(p.GetSecrets()))
		for k, v := range p.GetSecrets() {
			c.Secrets[k] = Secret(v)
		}
	}
	return c
}

func descriptionToPB(d Description) *pb.Description {
	p := &pb.Description{Name: d.Name, Version: d.Version, ConfigSchema: d.ConfigSchema}
	for _, c := range d.Capabilities {
		p.Capabilities = append(p.Capabilities, string(c))
	}
	for _, s := range d.Secrets {
		p.Secrets = append(p.Secrets, &pb.SecretSpec{Name: s.Name, Description: s.Description, Required: s.Required})
	}
	return p
}

func descriptionFromPB(p *pb.Description) Description {
	d := Description{Name: p.GetName(), Version: p.GetVersion(), ConfigSchema: p.GetConfigSchema()}
	for _, c := range p.GetCapabilities() {
		d.Capabilities = append(d.Capabilities, Capability(c))
	}
	for _, s := range p.GetSecrets() {
		d.Secrets = append(d.Secrets, SecretSpec{Name: s.GetName(), Description: s.GetDescription(), Required: s.GetRequired()})
	}
	return d
}

func problemsToPB(ps []Problem) []*pb.Problem {
	var out []*pb.Problem
	for _, p := range ps {
		out = append(out, &pb.Problem{Field: p.Field, Rule: p.Rule, Message: p.Message})
	}
	return out
}

func problemsFromPB(ps []*pb.Problem) []Problem {
	var out []Problem
	for _, p := range ps {
		out = append(out, Problem{Field: p.GetField(), Rule: p.GetRule(), Message: p.GetMessage()})
	}
	return out
}

func checkToPB(r CheckResult) *pb.CheckResult {
	return &pb.CheckResult{Ok: r.OK, Message: r.Message, Problems: problemsToPB(r.Problems)}
}

func checkFromPB(p *pb.CheckResult) CheckResult {
	return CheckResult{OK: p.GetOk(), Message: p.GetMessage(), Problems: problemsFromPB(p.GetProblems())}
}

func identifiersToPB(i Identifiers) *pb.Identifiers {
	return &pb.Identifiers{Serial: i.Serial, Macs: i.MACs, AssetTag: i.AssetTag, HardwareUuid: i.HardwareUUID,
		SourceDeviceId: i.SourceDeviceID, Hostname: i.Hostname}
}

func identifiersFromPB(p *pb.Identifiers) Identifiers {
	return Identifiers{Serial: p.GetSerial(), MACs: p.GetMacs(), AssetTag: p.GetAssetTag(), HardwareUUID: p.GetHardwareUuid(),
		SourceDeviceID: p.GetSourceDeviceId(), Hostname: p.GetHostname()}
}

func locationToPB(l Location) *pb.Location {
	return &pb.Location{SchoolCode: l.SchoolCode, SchoolName: l.SchoolName, Building: l.Building, Room: l.Room}
}

func locationFromPB(p *pb.Location) Location {
	return Location{SchoolCode: p.GetSchoolCode(), SchoolName: p.GetSchoolName(), Building: p.GetBuilding(), Room: p.GetRoom()}
}

func recordToPB(r Record) *pb.Record {
	return &pb.Record{SourceKey: r.SourceKey, ClassHint: r.ClassHint, Identifiers: identifiersToPB(r.Identifiers),
		Attributes: r.Attributes, Location: locationToPB(r.Location), Status: r.Status, Deleted: r.Deleted,
		Origin: r.Origin, Problems: problemsToPB(r.Problems)}
}

func recordFromPB(p *pb.Record) Record {
	return Record{SourceKey: p.GetSourceKey(), ClassHint: p.GetClassHint(), Identifiers: identifiersFromPB(p.GetIdentifiers()),
		Attributes: p.GetAttributes(), Location: locationFromPB(p.GetLocation()), Status: p.GetStatus(), Deleted: p.GetDeleted(),
		Origin: p.GetOrigin(), Problems: problemsFromPB(p.GetProblems())}
}

func changeToPB(c Change) *pb.Change {
	return &pb.Change{SourceKey: c.SourceKey, CiId: c.CIID, Identifiers: identifiersToPB(c.Identifiers), Fields: c.Fields,
		Status: c.Status, Location: locationToPB(c.Location)}
}

func changeFromPB(p *pb.Change) Change {
	return Change{SourceKey: p.GetSourceKey(), CIID: p.GetCiId(), Identifiers: identifiersFromPB(p.GetIdentifiers()),
		Fields: p.GetFields(), Status: p.GetStatus(), Location: locationFromPB(p.GetLocation())}
}

func pushResultToPB(r PushResult) *pb.PushResult {
	p := &pb.PushResult{Applied: int64(r.Applied)}
	for _, f := range r.Failures {
		p.Failures = append(p.Failures, &pb.PushFailure{SourceKey: f.SourceKey, Message: f.Message})
	}
	return p
}

func pushResultFromPB(p *pb.PushResult) PushResult {
	r := PushResult{Applied: int(p.GetApplied())}
	for _, f := range p.GetFailures() {
		r.Failures = append(r.Failures, PushFailure{SourceKey: f.GetSourceKey(), Message: f.GetMessage()})
	}
	return r
}
