package server

import (
	"bytes"
	"encoding/json"
	"encoding/json/jsontext"
	jsonv2 "encoding/json/v2"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/store"
)

// The bounds of a payload.
const (
	MaxBody    = 1 << 20 // bytes of a request body
	MaxName    = 50      // characters of a check's name: the records' name column
	MaxMessage = 64 << 10
)

// FieldError is a payload's problem, naming the field: "uuid",
// "checks[2].status", or "body" for the whole.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Decode reads a /v1/metrics payload as the spec defines it and as the
// original Python monitor sends it:
//
//	{"uuid": "…", "timestamp": "2023-11-20T12:00:00.000000", "sync_app_id": "…",
//	 "checks": [{"name": "…", "status": 1, "message": "…"}]}
//
// Every field is required and checked: the uuid in canonical form (kept in
// lower case), the timestamp in any form Python's isoformat() writes, an
// app id of 1 to 100 characters, at least one check, names of 1 to 50
// characters, a status of 0 or 1, messages of at most 64 KiB, and no NUL
// in any text (no database keeps it). Fields it does not know are ignored.
// The error is a *FieldError.
func Decode(body []byte) (*healthjob.Run, error) {
	if run := decodeFast(body); run != nil {
		return run, nil
	}
	return decodeSlow(body)
}

// decodeFast decodes a valid payload in one pass, straight into a struct,
// with encoding/json/v2. Anything it would not take as is — a field
// missing, of another type, named twice, not UTF-8, out of bounds — it
// leaves to decodeSlow, which names what is wrong: it returns nil.
func decodeFast(body []byte) *healthjob.Run {
	var p struct {
		UUID      *string `json:"uuid"`
		Timestamp *string `json:"timestamp"`
		SyncAppID *string `json:"sync_app_id"`
		Checks    []struct {
			Name    *string        `json:"name"`
			Status  jsontext.Value `json:"status"`
			Message *string        `json:"message"`
		} `json:"checks"`
	}
	if jsonv2.Unmarshal(body, &p) != nil || p.UUID == nil || p.Timestamp == nil || p.SyncAppID == nil || len(p.Checks) == 0 {
		return nil
	}
	run := &healthjob.Run{Checks: make([]healthjob.Result, len(p.Checks))}
	var err *FieldError
	if run.UUID, err = validUUID(*p.UUID); err != nil {
		return nil
	}
	if run.Timestamp, err = validTimestamp(*p.Timestamp); err != nil {
		return nil
	}
	if run.SyncAppID, err = validApp(*p.SyncAppID); err != nil {
		return nil
	}
	for i, c := range p.Checks {
		if c.Name == nil || c.Message == nil || c.Status == nil {
			return nil
		}
		r := &run.Checks[i]
		if r.Name, err = validName(*c.Name, ""); err != nil {
			return nil
		}
		if r.Status, err = validStatus(c.Status, ""); err != nil {
			return nil
		}
		if r.Message, err = validMessage(*c.Message, ""); err != nil {
			return nil
		}
	}
	return run
}

// decodeSlow decodes a payload field by field and names the first that
// is wrong.
func decodeSlow(body []byte) (*healthjob.Run, error) {
	top, run, err := decodeHead(body)
	if err != nil {
		return nil, err
	}
	raw, ok := top["checks"]
	if !ok {
		return nil, fieldErr("checks", "missing")
	}
	var checks []json.RawMessage
	if kind(raw) != "an array" || json.Unmarshal(raw, &checks) != nil {
		return nil, fieldErr("checks", "want a list of checks, got %s", describe(raw))
	}
	if len(checks) == 0 {
		return nil, fieldErr("checks", "want at least one check, got none; a run with no checks is a heartbeat: POST it to /v1/heartbeat")
	}
	run.Checks = make([]healthjob.Result, len(checks))
	for i, raw := range checks {
		var ferr *FieldError
		if run.Checks[i], ferr = decodeCheck(raw, fmt.Sprintf("checks[%d]", i)); ferr != nil {
			return nil, ferr
		}
	}
	return run, nil
}

// DecodeHeartbeat reads a /v1/heartbeat payload: a run with no checks,
// which says that its monitor is alive. Its uuid, timestamp and
// sync_app_id are checked as Decode checks them; checks may be missing or
// empty, nothing else.
func DecodeHeartbeat(body []byte) (*healthjob.Run, error) {
	top, run, err := decodeHead(body)
	if err != nil {
		return nil, err
	}
	if raw, ok := top["checks"]; ok {
		var checks []json.RawMessage
		if kind(raw) != "an array" || json.Unmarshal(raw, &checks) != nil || len(checks) > 0 {
			return nil, fieldErr("checks", "want none in a heartbeat, got %s; POST a run with checks to /v1/metrics", describe(raw))
		}
	}
	run.Checks = []healthjob.Result{}
	return run, nil
}

// decodeHead decodes the fields of a payload but its checks, and returns
// the top-level object for the rest. The error is a *FieldError.
func decodeHead(body []byte) (map[string]json.RawMessage, *healthjob.Run, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, nil, bodyError(body, err)
	}
	if top == nil {
		return nil, nil, fieldErr("body", "want a JSON object, got null")
	}
	run := &healthjob.Run{}
	s, err := text(top, "uuid", "uuid")
	if err == nil {
		run.UUID, err = validUUID(s)
	}
	if err == nil {
		if s, err = text(top, "timestamp", "timestamp"); err == nil {
			run.Timestamp, err = validTimestamp(s)
		}
	}
	if err == nil {
		if s, err = text(top, "sync_app_id", "sync_app_id"); err == nil {
			run.SyncAppID, err = validApp(s)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	return top, run, nil
}

func decodeCheck(raw json.RawMessage, at string) (healthjob.Result, *FieldError) {
	var c healthjob.Result
	var obj map[string]json.RawMessage
	if kind(raw) != "an object" || json.Unmarshal(raw, &obj) != nil {
		return c, fieldErr(at, "want an object with name, status and message, got %s", describe(raw))
	}
	s, err := text(obj, "name", at+".name")
	if err == nil {
		c.Name, err = validName(s, at)
	}
	if err != nil {
		return c, err
	}
	status, ok := obj["status"]
	if !ok {
		return c, fieldErr(at+".status", "missing")
	}
	if c.Status, err = validStatus(status, at); err != nil {
		return c, err
	}
	if s, err = text(obj, "message", at+".message"); err == nil {
		c.Message, err = validMessage(s, at)
	}
	return c, err
}

// The rules of each field, shared by both decoders: each returns the
// field's value as the run keeps it.

func validUUID(s string) (string, *FieldError) {
	if !isUUID(s) {
		return "", fieldErr("uuid", "want a UUID such as 550e8400-e29b-41d4-a716-446655440000, got %s", quote(s))
	}
	return strings.ToLower(s), nil
}

func validTimestamp(s string) (healthjob.Timestamp, *FieldError) {
	t, err := healthjob.ParseTimestamp(s)
	if err != nil || t.Year() < 1970 || t.Year() > 9999 {
		return healthjob.Timestamp{}, fieldErr("timestamp", "want a UTC time such as 2023-11-20T12:00:00.000000 (fraction and offset optional), got %s", quote(s))
	}
	return healthjob.Timestamp{Time: t.Truncate(time.Microsecond)}, nil // what every database keeps
}

func validApp(s string) (string, *FieldError) {
	if err := noNUL(s, "sync_app_id"); err != nil {
		return "", err
	}
	if err := store.CheckAppID(s); err != nil {
		return "", fieldErr("sync_app_id", "%v", err)
	}
	return s, nil
}

// validName checks the name of the check at ("checks[2]").
func validName(s, at string) (string, *FieldError) {
	if err := noNUL(s, at+".name"); err != nil {
		return "", err
	}
	if n := utf8.RuneCountInString(s); n == 0 || n > MaxName {
		return "", fieldErr(at+".name", "want 1 to %d characters, got %d", MaxName, n)
	}
	return s, nil
}

func validStatus(raw []byte, at string) (int, *FieldError) {
	switch string(bytes.TrimSpace(raw)) {
	case "0":
		return 0, nil
	case "1":
		return 1, nil
	}
	return 0, fieldErr(at+".status", "want 0 or 1, got %s", describe(raw))
}

func validMessage(s, at string) (string, *FieldError) {
	if err := noNUL(s, at+".message"); err != nil {
		return "", err
	}
	if len(s) > MaxMessage {
		return "", fieldErr(at+".message", "want at most %d bytes, got %d", MaxMessage, len(s))
	}
	return s, nil
}

// noNUL refuses a NUL character, which no database keeps in text.
func noNUL(s, field string) *FieldError {
	if strings.IndexByte(s, 0) >= 0 {
		return fieldErr(field, "want text without NUL characters")
	}
	return nil
}

// text reads the string obj[key], reporting problems as field's.
func text(obj map[string]json.RawMessage, key, field string) (string, *FieldError) {
	raw, ok := obj[key]
	if !ok {
		return "", fieldErr(field, "missing")
	}
	var s string
	if kind(raw) != "a string" || json.Unmarshal(raw, &s) != nil {
		return "", fieldErr(field, "want a string, got %s", describe(raw))
	}
	return s, nil
}

// bodyError explains why a body is not a JSON object.
func bodyError(body []byte, err error) *FieldError {
	var syntax *json.SyntaxError
	switch {
	case len(bytes.TrimSpace(body)) == 0:
		return fieldErr("body", "want a JSON object, got nothing")
	case errors.As(err, &syntax):
		return fieldErr("body", "not JSON: %v (at byte %d)", syntax, syntax.Offset)
	}
	return fieldErr("body", "want a JSON object, got %s", describe(bytes.TrimSpace(body)))
}

// kind names the JSON type of a valid raw value.
func kind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// describe shows a raw value in an error: scalars as written, shortened;
// objects and arrays by their kind.
func describe(raw json.RawMessage) string {
	switch k := kind(raw); k {
	case "an object", "an array", "nothing":
		return k
	}
	return shorten(string(bytes.TrimSpace(raw)))
}

// quote shows a string in an error, shortened.
func quote(s string) string { return shorten(strconv.Quote(s)) }

func shorten(s string) string {
	const most = 60
	if len(s) <= most {
		return s
	}
	cut := most
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// isUUID tells whether s is a UUID in its canonical 8-4-4-4-12 form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
