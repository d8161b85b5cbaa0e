package connsync

import (
	"runtime/metrics"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/process"
)

// memWatch samples, while a run lasts, the server's Go heap (runtime/metrics:
// live and not yet swept objects) and the connector process's resident
// size (gopsutil), and keeps the highest of each. The heap, not the
// server's RSS, is what a run costs the server: the RSS holds whatever
// else the server does, and Go returns freed memory lazily.
type memWatch struct {
	mu         sync.Mutex
	heap, plug int64
	pid        int
	proc       *process.Process
	done       chan struct{}
	stopped    chan struct{}
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func watchMemory() *memWatch {
	m := &memWatch{done: make(chan struct{}), stopped: make(chan struct{})}
	m.sample()
	go func() {
		defer close(m.stopped)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-m.done:
				return
			case <-t.C:
				m.sample()
			}
		}
	}()
	return m
}

// watchPID adds the connector process (0: none, an in-process connector).
func (m *memWatch) watchPID(pid int) {
	if pid <= 0 {
		return
	}
	p, err := process.NewProcess(int32(pid))
	if err != nil {
		return
	}
	m.mu.Lock()
	m.pid, m.proc = pid, p
	m.mu.Unlock()
	m.sample()
}

func (m *memWatch) sample() {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	var heap int64
	if s[0].Value.Kind() == metrics.KindUint64 {
		heap = int64(s[0].Value.Uint64())
	}
	m.mu.Lock()
	p := m.proc
	m.mu.Unlock()
	var rss int64
	if p != nil {
		if mi, err := p.MemoryInfo(); err == nil {
			rss = int64(mi.RSS)
		}
	}
	m.mu.Lock()
	m.heap, m.plug = max(m.heap, heap), max(m.plug, rss)
	m.mu.Unlock()
}

// peak returns the highest heap and plugin sizes so far.
func (m *memWatch) peak() (heap, plugin int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.heap, m.plug
}

// stop ends sampling and returns the peaks.
func (m *memWatch) stop() (heap, plugin int64) {
	select {
	case <-m.done:
	default:
		close(m.done)
	}
	<-m.stopped
	return m.peak()
}
