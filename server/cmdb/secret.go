package cmdb

import "github.com/schulit/cmdb/agentproto"

// Secret is a string that must never be shown: passwords, tokens, SNMP
// communities, connector credentials. It redacts itself when printed,
// logged or marshalled; call Reveal where the real value is needed.
//
// It is the agent protocol's Secret (device credentials and enrolment
// tokens cross that wire), named here for the rest of the domain, so that
// there is one redacting type.
type Secret = agentproto.Secret
