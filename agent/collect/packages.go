package collect

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/schulit/cmdb/agentproto"
)

// ParseDpkgStatus reads a dpkg status file (/var/lib/dpkg/status) as a
// stream and returns the packages whose Status is "install ok
// installed", with the Maintainer (without e-mail address) as publisher.
// Packages that are removed, half-installed or only configured are left
// out. Lines of any length are handled without reading the file at once.
func ParseDpkgStatus(r io.Reader) ([]agentproto.SoftwareItem, error) {
	br := bufio.NewReaderSize(r, 32<<10)
	var items []agentproto.SoftwareItem
	var cur agentproto.SoftwareItem
	installed := false
	flush := func() {
		if installed && cur.Name != "" {
			items = append(items, cur)
		}
		cur, installed = agentproto.SoftwareItem{}, false
	}
	for {
		line, err := readLine(br)
		if len(line) == 0 && err == nil {
			flush()
			continue
		}
		if len(line) > 0 && line[0] != ' ' && line[0] != '\t' {
			key, val, ok := bytes.Cut(line, []byte(":"))
			if ok {
				v := string(bytes.TrimSpace(val))
				switch string(key) {
				case "Package":
					cur.Name = v
				case "Version":
					cur.Version = v
				case "Maintainer":
					cur.Publisher = stripEmail(v)
				case "Status":
					installed = v == "install ok installed"
				}
			}
		}
		if errors.Is(err, io.EOF) {
			flush()
			return items, nil
		}
		if err != nil {
			return items, err
		}
	}
}

// readLine returns the next line without its newline. A line longer than
// the buffer (a long Description) is cut to the buffer's length; the rest
// is skipped, since no field we read is that long.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		// Copy before ReadSlice reuses the buffer.
		line = bytes.Clone(line)
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = br.ReadSlice('\n')
		}
	}
	line = bytes.TrimRight(line, "\r\n")
	if errors.Is(err, io.EOF) && len(line) > 0 {
		// Last line without newline: report it now, EOF next time.
		return line, nil
	}
	return line, err
}

// stripEmail turns "Debian X Team <x@lists.debian.org>" into "Debian X
// Team".
func stripEmail(s string) string {
	if i := strings.IndexByte(s, '<'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// RPMQueryFormat is the rpm --qf format ParseRPM reads.
const RPMQueryFormat = `%{NAME}\t%{VERSION}-%{RELEASE}\t%{VENDOR}\n`

// ParseRPM reads the output of `rpm -qa --qf RPMQueryFormat`. Unknown
// vendors ("(none)") become an empty publisher; gpg-pubkey pseudo
// packages are left out.
func ParseRPM(r io.Reader) []agentproto.SoftwareItem {
	var items []agentproto.SoftwareItem
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 2 || f[0] == "" || f[0] == "gpg-pubkey" {
			continue
		}
		it := agentproto.SoftwareItem{Name: f[0], Version: f[1]}
		if len(f) > 2 && f[2] != "(none)" {
			it.Publisher = strings.TrimSpace(f[2])
		}
		items = append(items, it)
	}
	return items
}
