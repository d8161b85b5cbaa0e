package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/labels"
)

// ciLabels prints one CI's QR label for the console's device page (the
// web package imports only the domain, so the PDF is made here), on the
// same stock as the API's room and school sheets.
type ciLabels struct{ publicURL string }

func (l ciLabels) CILabel(w http.ResponseWriter, r *http.Request, sc cmdb.Scope, ci *cmdb.CI) error {
	base := l.publicURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	var buf bytes.Buffer
	lb := labels.Label{URL: strings.TrimRight(base, "/") + "/r/" + ci.ShortCode, Code: ci.ShortCode, Name: ci.Name, AssetTag: ci.AssetTag}
	if err := labels.Write(&buf, labels.Stock70x36, []labels.Label{lb}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", "etikett-"+ci.ShortCode+".pdf"))
	_, err := w.Write(buf.Bytes())
	return err
}
