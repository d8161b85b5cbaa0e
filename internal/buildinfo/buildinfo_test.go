package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	for _, tc := range []struct {
		name                  string
		ldVersion, ldCommit   string
		bi                    debug.BuildInfo
		wantVersion, wantComm string
	}{
		{"ldflags win", "1.2.3", "abc", debug.BuildInfo{Main: debug.Module{Version: "v9.9.9"}, Settings: vcs("fff", "false")}, "1.2.3", "abc"},
		{"clean checkout", "", "", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("fff", "false")}, "", "fff"},
		{"modified checkout", "", "", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("fff", "true")}, "", "fff+dirty"},
		{"go install module@version", "", "", debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := Info{Version: tc.ldVersion, Commit: tc.ldCommit}
			fromBuildInfo(&i, &tc.bi)
			if i.Version != tc.wantVersion || i.Commit != tc.wantComm {
				t.Errorf("got version %q commit %q, want %q %q", i.Version, i.Commit, tc.wantVersion, tc.wantComm)
			}
		})
	}
}

func TestGetNeverEmpty(t *testing.T) {
	i := Get()
	if i.Version == "" || i.Commit == "" || i.GoVersion == "" {
		t.Errorf("Get() = %+v, want every field set", i)
	}
}
