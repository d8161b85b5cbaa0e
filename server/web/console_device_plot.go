package web

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// Plots of a device's metrics over time, drawn on the server as SVG: no
// script, readable without colour (each series has its own dash pattern
// and marker and a label at its end; a table lists the values for screen
// readers). The series come from the rollups (daily aggregates for two
// years), averaged down to at most plotPoints points per series.

const (
	plotPoints = 300
	plotSpan   = 730 * 24 * time.Hour
	// forecastSpan is how far back the supply forecast fits its line.
	forecastSpan = 28 * 24 * time.Hour
	plotW, plotH = 720.0, 240.0
	padL, padR   = 64.0, 150.0
	padT, padB   = 12.0, 36.0
)

type plot struct {
	ID, Title, Unit string
	Series          []*plotSeries
	SVG             template.HTML
	Summary         string
}

type plotSeries struct {
	Name, Label string
	Points      []plotPoint
	// DaysLeft is the estimated days until a supply runs out; -1 when
	// it is not falling.
	DaysLeft int
	Last     float64
}

type plotPoint struct {
	At    time.Time
	Value float64
}

// devicePlots reads the CI's series and builds the plots that apply:
// the page counter and supply levels (printers, copiers), lamp hours
// (projectors).
func (s *server) devicePlots(r *http.Request, rq *request, ci *cmdb.CI) ([]*plot, error) {
	now := s.opts.Now()
	// Two years of daily aggregates, thinned in the database where the
	// store can; a device too new for the nightly rollup shows its raw
	// values of the last week.
	var items []*cmdb.Metric
	if ps, ok := s.opts.SNMP.(cmdb.MetricPlotStore); ok {
		var err error
		if items, err = ps.FindMetricPlot(r.Context(), rq.Scope, ci.ID, now.Add(-plotSpan), plotPoints); err != nil {
			return nil, err
		}
	} else {
		ser, err := s.opts.SNMP.FindMetricSeries(r.Context(), rq.Scope, ci.ID,
			cmdb.MetricQuery{From: now.Add(-plotSpan), Resolution: cmdb.MetricDaily, Limit: 10000})
		if err != nil {
			return nil, err
		}
		items = ser.Items
	}
	if len(items) == 0 {
		ser, err := s.opts.SNMP.FindMetricSeries(r.Context(), rq.Scope, ci.ID,
			cmdb.MetricQuery{From: now.Add(-7 * 24 * time.Hour), Resolution: cmdb.MetricRaw, Limit: 10000})
		if err != nil {
			return nil, err
		}
		items = ser.Items
	}
	byName := map[string][]plotPoint{}
	for _, m := range items {
		v := m.Value
		if m.Last != nil && strings.HasPrefix(m.Name, "counter.") {
			v = *m.Last // a counter's value is where it stood
		}
		byName[m.Name] = append(byName[m.Name], plotPoint{m.At, v})
	}
	pages := &plot{ID: "seiten", Title: rq.tr.T("device.ci.plot.pages"), Unit: rq.tr.T("device.ci.plot.pages.unit")}
	supplies := &plot{ID: "verbrauch", Title: rq.tr.T("device.ci.plot.supplies"), Unit: "%"}
	lamps := &plot{ID: "lampe", Title: rq.tr.T("device.ci.plot.lamp"), Unit: rq.tr.T("device.ci.plot.hours")}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		pts := byName[n]
		sort.Slice(pts, func(i, j int) bool { return pts[i].At.Before(pts[j].At) })
		sr := &plotSeries{Name: n, Points: downsample(pts, plotPoints), DaysLeft: -1, Last: pts[len(pts)-1].Value}
		switch {
		case n == "counter.pages":
			sr.Label = rq.tr.T("device.ci.plot.pages")
			pages.Series = append(pages.Series, sr)
		case strings.HasPrefix(n, "supply.") && strings.HasSuffix(n, ".percent"):
			idx := strings.TrimSuffix(strings.TrimPrefix(n, "supply."), ".percent")
			sr.Label = ci.Attributes["supply."+idx+".name"]
			if sr.Label == "" {
				sr.Label = rq.tr.T("device.ci.plot.supply", "N", idx)
			}
			sr.DaysLeft = daysLeft(pts, now)
			supplies.Series = append(supplies.Series, sr)
		case strings.HasPrefix(n, "projector.lamp.") && strings.HasSuffix(n, ".hours"):
			sr.Label = rq.tr.T("device.ci.plot.lampn", "N", strings.TrimSuffix(strings.TrimPrefix(n, "projector.lamp."), ".hours"))
			lamps.Series = append(lamps.Series, sr)
		}
	}
	battery := &plot{ID: "akku", Title: rq.tr.T("device.ci.plot.battery"), Unit: "%"}
	if _, ok := ci.Attributes[batteryAttr]; ok {
		// The agent reports the battery's capacity as an attribute, so
		// its values over time are the attribute's history.
		if sr, err := s.batterySeries(r, rq, ci.ID, now); err != nil {
			return nil, err
		} else if sr != nil {
			battery.Series = append(battery.Series, sr)
		}
	}
	var out []*plot
	for _, p := range []*plot{pages, supplies, lamps, battery} {
		if len(p.Series) == 0 {
			continue
		}
		p.SVG = drawPlot(p, rq.tr)
		var sum []string
		for _, sr := range p.Series {
			line := rq.tr.T("device.ci.plot.summary", "Series", sr.Label, "Value", fmtNum(sr.Last), "Unit", p.Unit,
				"From", rq.tr.Date(sr.Points[0].At), "To", rq.tr.Date(sr.Points[len(sr.Points)-1].At))
			if sr.DaysLeft >= 0 {
				line += " " + rq.tr.T("device.ci.plot.daysleft", "Days", sr.DaysLeft)
			}
			sum = append(sum, line)
		}
		p.Summary = strings.Join(sum, " ")
		out = append(out, p)
	}
	return out, nil
}

// downsample averages consecutive points into at most n.
func downsample(pts []plotPoint, n int) []plotPoint {
	if len(pts) <= n {
		return pts
	}
	out := make([]plotPoint, 0, n)
	for i := range n {
		a, b := i*len(pts)/n, (i+1)*len(pts)/n
		var sum float64
		var at int64
		for _, p := range pts[a:b] {
			sum += p.Value
			at += p.At.Unix() / int64(b-a)
		}
		out = append(out, plotPoint{time.Unix(at, 0).UTC(), sum / float64(b-a)})
	}
	return out
}

// daysLeft estimates when a supply reaches 0 %: a least-squares line
// through the values of the last four weeks since the last refill
// (a rise). -1 when the level does not fall.
func daysLeft(pts []plotPoint, now time.Time) int {
	start := 0
	for i := len(pts) - 1; i > 0; i-- {
		if pts[i].At.Before(now.Add(-forecastSpan)) {
			start = i + 1
			break
		}
		if pts[i].Value > pts[i-1].Value+5 { // refilled
			start = i
			break
		}
	}
	win := pts[start:]
	if len(win) < 2 {
		return -1
	}
	var sx, sy, sxx, sxy float64
	t0 := win[0].At
	for _, p := range win {
		x := p.At.Sub(t0).Hours() / 24
		sx, sy, sxx, sxy = sx+x, sy+p.Value, sxx+x*x, sxy+x*p.Value
	}
	n := float64(len(win))
	den := n*sxx - sx*sx
	if den == 0 {
		return -1
	}
	slope := (n*sxy - sx*sy) / den
	if slope >= 0 {
		return -1
	}
	last := win[len(win)-1]
	return int(math.Max(0, math.Round(last.Value/-slope)))
}

// Dash patterns and markers tell the series apart without colour.
var (
	plotDashes  = []string{"", "8 4", "2 3", "12 3 2 3", "4 4", "1 6"}
	plotMarkers = []string{"circle", "square", "triangle", "diamond", "cross", "bar"}
)

func drawPlot(p *plot, tr *translator) template.HTML {
	var lo, hi = math.Inf(1), math.Inf(-1)
	var t0, t1 time.Time
	for _, sr := range p.Series {
		for _, pt := range sr.Points {
			lo, hi = math.Min(lo, pt.Value), math.Max(hi, pt.Value)
			if t0.IsZero() || pt.At.Before(t0) {
				t0 = pt.At
			}
			if pt.At.After(t1) {
				t1 = pt.At
			}
		}
	}
	if p.Unit == "%" {
		lo, hi = 0, 100
	}
	if hi <= lo {
		hi = lo + 1
	}
	if !t1.After(t0) {
		t1 = t0.Add(24 * time.Hour)
	}
	iw, ih := plotW-padL-padR, plotH-padT-padB
	x := func(t time.Time) float64 { return padL + iw*float64(t.Sub(t0))/float64(t1.Sub(t0)) }
	y := func(v float64) float64 { return padT + ih*(1-(v-lo)/(hi-lo)) }
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg class="plot" viewBox="0 0 %g %g" role="img" aria-labelledby="%s-t" data-plot="%s"><title id="%s-t">%s</title>`,
		plotW, plotH, p.ID, p.ID, p.ID, esc(p.Title))
	// Axes and grid: four value lines, dates at start, middle, end.
	for i := 0; i <= 4; i++ {
		v := lo + (hi-lo)*float64(i)/4
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/><text class="tick" x="%.1f" y="%.1f" text-anchor="end">%s</text>`,
			padL, padL+iw, y(v), y(v), padL-6, y(v)+4, esc(fmtNum(v)))
	}
	for i, t := range []time.Time{t0, t0.Add(t1.Sub(t0) / 2), t1} {
		anchor := []string{"start", "middle", "end"}[i]
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="%s">%s</text>`, x(t), plotH-padB+18, anchor, esc(tr.Date(t)))
	}
	fmt.Fprintf(&b, `<text class="axis" x="12" y="%.1f" transform="rotate(-90 12 %.1f)" text-anchor="middle">%s</text>`,
		padT+ih/2, padT+ih/2, esc(p.Unit))
	fmt.Fprintf(&b, `<line class="axis-line" x1="%g" x2="%g" y1="%g" y2="%g"/>`, padL, padL, padT, padT+ih)
	fmt.Fprintf(&b, `<line class="axis-line" x1="%g" x2="%g" y1="%g" y2="%g"/>`, padL, padL+iw, padT+ih, padT+ih)
	for i, sr := range p.Series {
		var pts, vals, ats strings.Builder
		for j, pt := range sr.Points {
			if j > 0 {
				pts.WriteByte(' ')
				vals.WriteByte(' ')
				ats.WriteByte(' ')
			}
			fmt.Fprintf(&pts, "%.1f,%.1f", x(pt.At), y(pt.Value))
			vals.WriteString(strconv.FormatFloat(pt.Value, 'f', -1, 64))
			ats.WriteString(pt.At.Format("2006-01-02"))
		}
		dash := ""
		if d := plotDashes[i%len(plotDashes)]; d != "" {
			dash = ` stroke-dasharray="` + d + `"`
		}
		fmt.Fprintf(&b, `<g class="series s%d" data-series="%s"><polyline fill="none"%s points="%s" data-values="%s" data-at="%s"/>`,
			i%len(plotDashes), esc(sr.Name), dash, pts.String(), vals.String(), ats.String())
		step := max(1, len(sr.Points)/12)
		for j := 0; j < len(sr.Points); j += step {
			b.WriteString(marker(plotMarkers[i%len(plotMarkers)], x(sr.Points[j].At), y(sr.Points[j].Value)))
		}
		last := sr.Points[len(sr.Points)-1]
		fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%.1f">%s</text></g>`, x(last.At)+8, y(last.Value)+4, esc(shortLabel(sr.Label)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func marker(kind string, x, y float64) string {
	switch kind {
	case "square":
		return fmt.Sprintf(`<rect class="mk" x="%.1f" y="%.1f" width="6" height="6"/>`, x-3, y-3)
	case "triangle":
		return fmt.Sprintf(`<path class="mk" d="M%.1f %.1fl4 7h-8z"/>`, x, y-4)
	case "diamond":
		return fmt.Sprintf(`<path class="mk" d="M%.1f %.1fl4 4l-4 4l-4 -4z"/>`, x, y-4)
	case "cross":
		return fmt.Sprintf(`<path class="mk open" d="M%.1f %.1fl8 8m0 -8l-8 8"/>`, x-4, y-4)
	case "bar":
		return fmt.Sprintf(`<path class="mk open" d="M%.1f %.1fv10"/>`, x, y-5)
	}
	return fmt.Sprintf(`<circle class="mk" cx="%.1f" cy="%.1f" r="3.5"/>`, x, y)
}

func fmtNum(v float64) string {
	if math.Abs(v) >= 100 || v == math.Trunc(v) {
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// Rows lists the plot's values for the table beside it: the series'
// last points (the SVG holds them all), newest first.
func (p *plot) Rows() []plotRow {
	var out []plotRow
	for _, sr := range p.Series {
		n := len(sr.Points)
		for j := n - 1; j >= max(0, n-10); j-- {
			out = append(out, plotRow{Series: sr.Label, At: sr.Points[j].At, Value: fmtNum(sr.Points[j].Value)})
		}
	}
	return out
}

type plotRow struct {
	Series string
	At     time.Time
	Value  string
}

// shortLabel keeps a series' label at the line's end short enough for
// the margin; the caption and the table give it whole.
func shortLabel(s string) string {
	if r := []rune(s); len(r) > 20 {
		return string(r[:19]) + "…"
	}
	return s
}

// batteryAttr is the agent's battery capacity in percent of its design.
const batteryAttr = "battery.health_percent"

// batterySeries reads a laptop's battery capacity from its history, the
// last two years; nil when there are fewer than two values.
func (s *server) batterySeries(r *http.Request, rq *request, ciID int64, now time.Time) (*plotSeries, error) {
	hist, err := s.opts.CIs.FindHistory(r.Context(), rq.Scope, ciID, 10000)
	if err != nil {
		return nil, err
	}
	var pts []plotPoint
	for i := len(hist) - 1; i >= 0; i-- {
		h := hist[i]
		if h.Attr != batteryAttr || h.New == nil || h.At.Before(now.Add(-plotSpan)) {
			continue
		}
		if v, err := strconv.ParseFloat(*h.New, 64); err == nil {
			pts = append(pts, plotPoint{h.At, v})
		}
	}
	if len(pts) < 2 {
		return nil, nil
	}
	return &plotSeries{Name: batteryAttr, Label: rq.tr.T("device.ci.plot.battery"), Points: downsample(pts, plotPoints), DaysLeft: -1, Last: pts[len(pts)-1].Value}, nil
}
