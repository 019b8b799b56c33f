package notify

import (
	"fmt"
	"strings"
	"time"
)

// The events a notification tells of.
const (
	Triggered = "triggered" // the check turned bad, or from warning to failing and back
	Resolved  = "resolved"  // the check is ok again
	Reminder  = "reminder"  // the check is still bad
	Test      = "test"      // `healthjob notify test`
)

// Message is one notification: the JSON body the webhook receives, and
// what the other notifiers render as text.
type Message struct {
	ID       string    `json:"id"`    // unique; the receiver's idempotency key
	Event    string    `json:"event"` // Triggered, Resolved, Reminder or Test
	App      string    `json:"app"`   // SYNC_APP_ID; "" for a monitor that does not sync
	Check    string    `json:"check"`
	State    State     `json:"state"`          // the check's state now
	Previous State     `json:"previous_state"` // what this notifier was told before
	Message  string    `json:"message"`        // the latest status text
	Since    time.Time `json:"since"`          // when State began
	RunUUID  string    `json:"run_uuid,omitempty"`
}

// Title is the message in one line: "[app] Check is failing".
func (m Message) Title() string {
	var b strings.Builder
	if m.App != "" {
		b.WriteString("[" + m.App + "] ")
	}
	b.WriteString(m.Check)
	switch m.Event {
	case Resolved:
		if m.State == OK {
			b.WriteString(" is ok again")
		} else {
			b.WriteString(" is no longer failing, but " + string(m.State))
		}
	case Reminder:
		b.WriteString(" is still " + string(m.State))
	case Test:
		b.WriteString(": test notification")
	default:
		b.WriteString(" is " + string(m.State))
	}
	return b.String()
}

// Text is the message for people: the title, then the status text and
// since when.
func (m Message) Text() string {
	var b strings.Builder
	b.WriteString(m.Title() + "\n")
	if m.Message != "" {
		b.WriteString(m.Message + "\n")
	}
	fmt.Fprintf(&b, "%s since %s", m.State, m.Since.UTC().Format("2006-01-02 15:04:05 UTC"))
	if m.RunUUID != "" {
		b.WriteString(", run " + m.RunUUID)
	}
	return b.String()
}
