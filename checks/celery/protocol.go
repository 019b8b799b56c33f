package celery

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode"
)

// controlRequest is the body of a remote-control request, as
// kombu.pidbox.Mailbox publishes it.
type controlRequest struct {
	Method      string         `json:"method"`
	Arguments   map[string]any `json:"arguments"`
	Destination []string       `json:"destination"` // null: every worker
	Pattern     *string        `json:"pattern"`
	Matcher     *string        `json:"matcher"`
	Ticket      string         `json:"ticket"`
	ReplyTo     replyTo        `json:"reply_to"`
}

type replyTo struct {
	Exchange   string `json:"exchange"`
	RoutingKey string `json:"routing_key"`
}

// controlMessage builds the request for method, addressed to the named
// workers (all when none), that workers drop once expires has passed.
func controlMessage(method string, workers []string, ticket, replyKey string, expires time.Time) *Message {
	if len(workers) == 0 {
		workers = nil // an empty list would address nobody
	}
	body, _ := json.Marshal(controlRequest{ // cannot fail: plain strings and maps
		Method:      method,
		Arguments:   map[string]any{},
		Destination: workers,
		Ticket:      ticket,
		ReplyTo:     replyTo{Exchange: ReplyExchange, RoutingKey: replyKey},
	})
	return &Message{
		Headers: map[string]any{"clock": int64(1), "expires": float64(expires.UnixMicro()) / 1e6},
		Body:    body,
	}
}

// reply is one worker's answer to a remote-control request.
type reply struct {
	Worker string
	Value  json.RawMessage
}

// parseReply reads a reply body, {"<worker>": <value>}.
func parseReply(body []byte) (r reply, ok bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil || len(m) != 1 {
		return reply{}, false
	}
	for worker, value := range m {
		r = reply{Worker: worker, Value: value}
	}
	return r, true
}

// isPong tells whether a ping reply is exactly {"ok": "pong"}.
func isPong(value json.RawMessage) bool {
	var m map[string]any
	return json.Unmarshal(value, &m) == nil && len(m) == 1 && m["ok"] == "pong"
}

// queueNames reads the names from an active_queues reply.
func queueNames(value json.RawMessage) []string {
	var queues []struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(value, &queues) != nil {
		return nil
	}
	names := make([]string, len(queues))
	for i, q := range queues {
		names[i] = q.Name
	}
	return names
}

// taskBody is the body of protocol 2 that calls a task with args [4, 4]:
// args, kwargs and the (empty) workflow.
const taskBody = `[[4, 4], {}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]`

// taskMessage builds the message of protocol 2 (celery.app.amqp.as_task_v2)
// that apply_async(args=[4, 4], expires=…, priority=…) sends.
func taskMessage(task, id string, expires time.Time, priority uint8) *Message {
	return &Message{
		Headers: map[string]any{
			"lang":          "py",
			"task":          task,
			"id":            id,
			"root_id":       id,
			"parent_id":     nil,
			"group":         nil,
			"group_index":   nil,
			"shadow":        nil,
			"eta":           nil,
			"expires":       expires.UTC().Format("2006-01-02T15:04:05.000000-07:00"),
			"retries":       int64(0),
			"timelimit":     []any{nil, nil},
			"argsrepr":      "(4, 4)",
			"kwargsrepr":    "{}",
			"origin":        origin,
			"ignore_result": false,
		},
		Body:          []byte(taskBody),
		CorrelationID: id,
		Priority:      priority,
	}
}

// origin names the sender in task messages, as Celery's "gen<pid>@<host>".
var origin = func() string {
	host, err := os.Hostname()
	if err != nil {
		host = "localhost" // the worker only logs it
	}
	return fmt.Sprintf("healthjob%d@%s", os.Getpid(), host)
}()

// taskState is a task's state as the result backends store it.
type taskState struct {
	Status string          `json:"status"`
	Result json.RawMessage `json:"result"`
}

// final tells whether the task will not leave this state.
func (s taskState) final() bool {
	return s.Status == "SUCCESS" || s.Status == "FAILURE" || s.Status == "REVOKED"
}

// exception renders a FAILURE's result, {"exc_type", "exc_message"}, as
// "Type: message".
func (s taskState) exception() string {
	var exc struct {
		Type    string `json:"exc_type"`
		Message any    `json:"exc_message"`
	}
	if json.Unmarshal(s.Result, &exc) != nil || exc.Type == "" {
		return string(s.Result)
	}
	msg := exc.Message
	if list, ok := msg.([]any); ok && len(list) == 1 {
		msg = list[0]
	}
	return fmt.Sprintf("%s: %v", exc.Type, msg)
}

// pyTitle is Python's str.title(): a letter after a cased letter becomes
// lower case, any other letter title case. django-health-check names its
// queue checks "CeleryHealthCheck" + queue.title().
func pyTitle(s string) string {
	var b strings.Builder
	cased := false
	for _, r := range s {
		if cased {
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(unicode.ToTitle(r))
		}
		cased = unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)
	}
	return b.String()
}
