package ingestbench

import (
	"testing"
	"time"
)

func TestBenchIngestOptions(t *testing.T) {
	for _, o := range []Options{
		{Agents: 0, Duration: time.Second, Rate: 1, Concurrency: 1},
		{Agents: 200000, Duration: time.Second, Rate: 1, Concurrency: 1},
		{Agents: 1, Duration: 0, Rate: 1, Concurrency: 1},
		{Agents: 1, Duration: time.Second, Rate: 1, Concurrency: 1, URL: "http://127.0.0.1:8080"},
	} {
		if err := o.Check(); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
