package cmdb

import (
	"context"
	"time"
)

// HealthKind names a health condition of a device.
type HealthKind string

// Health conditions. The poller's debounce (server/health) raises them;
// a HealthSink, such as the ticket module, receives them.
const (
	HealthSupplyLow        HealthKind = "supply_low"        // a supply's level is low
	HealthSupplyEmpty      HealthKind = "supply_empty"      // a supply reports the state empty
	HealthJam              HealthKind = "jam"               // error bit jammed
	HealthDoorOpen         HealthKind = "door_open"         // error bit doorOpen, or a projector's cover
	HealthNoPaper          HealthKind = "no_paper"          // error bit noPaper
	HealthOffline          HealthKind = "offline"           // error bit offline
	HealthServiceRequested HealthKind = "service_requested" // error bit serviceRequested
	HealthUnreachable      HealthKind = "unreachable"       // the poll got no answer

	// Projector conditions, from the PJLink error status (ERST).
	HealthLamp        HealthKind = "lamp"        // lampWarning or lampError
	HealthFilter      HealthKind = "filter"      // filterWarning or filterError
	HealthFan         HealthKind = "fan"         // fanWarning or fanError
	HealthTemperature HealthKind = "temperature" // temperatureWarning or temperatureError
	HealthOtherError  HealthKind = "other_error" // otherWarning or otherError
)

// HealthEvent is a health condition of a CI opening (Open true) or
// clearing (Open false), after debouncing. It is the one shape of a
// health event: the debounce makes it, the poller offers it to a
// HealthSink, the store keeps it and the API shows it.
type HealthEvent struct {
	// ID is the stored event's id; 0 before it is stored.
	ID int64 `json:"id,omitempty"`
	// CIID is the configuration item the event is about; 0 while the
	// debounce has not yet been told which CI the device is.
	CIID int64      `json:"ci_id,omitempty"`
	Kind HealthKind `json:"kind"`
	// Subject says what the condition is about within the device: for
	// supply events "#<index> <description>", e.g. "#1 Black Toner";
	// "" for device-wide conditions.
	Subject string    `json:"subject,omitempty"`
	Open    bool      `json:"open"`
	At      time.Time `json:"at"`
	// Detail is a short human-readable explanation, e.g. "8% left".
	Detail string `json:"detail,omitempty"`
}

// HealthSink receives health events, e.g. to open or update incidents.
// The ticket module implements it; the poller calls it.
//
// Events are edges, not levels: the poller offers an event until the
// Sink takes it (an event whose HealthEvent call failed is offered again
// at the next poll), so a Sink may see an event twice and should treat a
// repeat as an update.
type HealthSink interface {
	// HealthEvent handles one event; e.CIID is set. An error means the
	// event was not taken.
	HealthEvent(ctx context.Context, e HealthEvent) error
}
