package cmdb

import (
	"context"
	"time"
)

// MetricPlotStore reads a CI's series thinned for a plot: the console's
// device page draws a few hundred points per series, not the 70,000 raw
// samples two years hold.
type MetricPlotStore interface {
	// FindMetricPlot returns every series of a visible CI from the daily
	// rollups since from, averaged into at most points buckets of whole
	// days per series: At is the middle of the bucket's days, Value the
	// average of their averages, Last the largest daily last value (meant for counters, which never fall) and
	// Count the days. Sorted by name, then time. ENOTFOUND outside the
	// scope.
	FindMetricPlot(ctx context.Context, s Scope, ciID int64, from time.Time, points int) ([]*Metric, error)
}
