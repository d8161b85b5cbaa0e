package api

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/labels"
)

// maxLabels bounds one sheet request (a large school has some thousands
// of devices: about 200 pages).
const maxLabels = 5000

// labelBase is the address the labels' QR codes point at: the configured
// public URL, else the address this request came to.
func (s *Server) labelBase(r *http.Request) string {
	if s.opts.PublicURL != "" {
		return strings.TrimRight(s.opts.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// roomLabels and schoolLabels answer the QR label sheet (A4 PDF, 70 × 36
// mm, 3 × 8) of the devices in service in a room or school the caller
// sees: each label's code opens the report flow for its device.
func (s *Server) roomLabels(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	room, err := s.opts.Tenants.FindRoomByID(r.Context(), sc, id)
	if err != nil {
		return err
	}
	return s.writeLabels(w, r, sc, cmdb.CIFilter{RoomID: id}, "etiketten-raum-"+room.Code)
}

func (s *Server) schoolLabels(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	school, err := s.opts.Tenants.FindSchoolByID(r.Context(), sc, id)
	if err != nil {
		return err
	}
	return s.writeLabels(w, r, sc, cmdb.CIFilter{SchoolID: id}, "etiketten-schule-"+school.Code)
}

func (s *Server) writeLabels(w http.ResponseWriter, r *http.Request, sc cmdb.Scope, f cmdb.CIFilter, name string) error {
	base := s.labelBase(r)
	var ls []labels.Label
	for f.Limit = 1000; ; f.Offset += f.Limit {
		cis, _, err := s.opts.CIs.FindCIs(r.Context(), sc, f)
		if err != nil {
			return err
		}
		for _, ci := range cis {
			if ci.MergedInto != 0 || ci.Status == cmdb.StatusRetired || ci.Status == cmdb.StatusDisposed {
				continue // no label for what is gone
			}
			ls = append(ls, labels.Label{URL: base + "/r/" + ci.ShortCode, Code: ci.ShortCode, Name: ci.Name, AssetTag: ci.AssetTag})
		}
		if len(ls) > maxLabels {
			return cmdb.Invalid("id", "more than %d devices: print the labels per room", maxLabels)
		}
		if len(cis) < f.Limit {
			break
		}
	}
	var buf bytes.Buffer
	if err := labels.Write(&buf, labels.Stock70x36, ls); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", safeFileName(name)+".pdf"))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(buf.Bytes())
	return err
}

// safeFileName keeps letters, digits, '-' and '.' of s.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '-'
	}, s)
}
