package main

import "fmt"

// Died returns a channel that is closed when the private PostgreSQL the
// server runs on dies (nil, which never closes, with an external
// database). cmdbd then exits non-zero with DiedErr, so that its service
// manager (systemd: Restart=on-failure) restarts it and with it the
// database, instead of serving 500s on a database that is gone.
func (m *Main) Died() <-chan struct{} {
	if m.cluster == nil {
		return nil
	}
	return m.cluster.Died()
}

// DiedErr says why the server must stop, once Died is closed.
func (m *Main) DiedErr() error {
	if m.cluster == nil || m.cluster.Err() == nil {
		return nil
	}
	return fmt.Errorf("%w\ncmdbd stops so that its service manager restarts it with a fresh PostgreSQL", m.cluster.Err())
}

// live is the liveness check of /healthz: failing once the private
// PostgreSQL has died, while cmdbd shuts down.
func (m *Main) live() error {
	if m.cluster != nil {
		return m.cluster.Err()
	}
	return nil
}
