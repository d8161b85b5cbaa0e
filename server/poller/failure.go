package poller

import (
	"errors"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/pjlink"
	"github.com/schulit/cmdb/server/snmp"
)

// PJLinkFailure says why a PJLink query failed: a refused password is
// wrong_credentials, a reply that is not PJLink protocol, and the
// connection's own errors as for SNMP (refused, timeout, network).
func PJLinkFailure(err error) cmdb.PollFailure {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, pjlink.ErrAuth):
		return cmdb.PollWrongCredentials
	case errors.Is(err, pjlink.ErrProtocol):
		return cmdb.PollProtocol
	}
	return snmp.ClassifyError(err)
}
