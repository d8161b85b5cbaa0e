// Package snmp is the SNMP poller. It reads printers, copiers, projectors,
// interactive displays and network gear over SNMP v1, v2c and v3 and
// turns what they answer into a cmdb.PollResult, and that into a
// cmdb.Observation for reconcile.
//
// The I/O edge is the small Scraper interface: NewScraper puts gosnmp
// behind it, FakeScraper is a map-backed stand-in for tests. Turning PDUs
// into values is pure functions (Decode, DecodeErrorState, SupplyLevel,
// Catalog.Classify) that never panic on what a device sends.
//
// What to read per device family (profiles), the vendor table
// (enterprise number → vendor) and the class rules are data, not code:
// YAML files embedded as defaults (defaults/*.yaml) that an operator can
// extend or override with a directory of YAML files (LoadCatalog).
package snmp
