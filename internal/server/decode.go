package server

import (
	"bytes"
	"encoding/json"
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
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, bodyError(body, err)
	}
	if top == nil {
		return nil, fieldErr("body", "want a JSON object, got null")
	}
	run := &healthjob.Run{}
	var err *FieldError
	if run.UUID, err = text(top, "uuid", "uuid"); err != nil {
		return nil, err
	}
	if !isUUID(run.UUID) {
		return nil, fieldErr("uuid", "want a UUID such as 550e8400-e29b-41d4-a716-446655440000, got %s", quote(run.UUID))
	}
	run.UUID = strings.ToLower(run.UUID)
	ts, err := text(top, "timestamp", "timestamp")
	if err != nil {
		return nil, err
	}
	t, perr := healthjob.ParseTimestamp(ts)
	if perr != nil || t.Year() < 1970 || t.Year() > 9999 {
		return nil, fieldErr("timestamp", "want a UTC time such as 2023-11-20T12:00:00.000000 (fraction and offset optional), got %s", quote(ts))
	}
	run.Timestamp = healthjob.Timestamp{Time: t.Truncate(time.Microsecond)} // what every database keeps
	if run.SyncAppID, err = text(top, "sync_app_id", "sync_app_id"); err != nil {
		return nil, err
	}
	if aerr := store.CheckAppID(run.SyncAppID); aerr != nil {
		return nil, fieldErr("sync_app_id", "%v", aerr)
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
		return nil, fieldErr("checks", "want at least one check, got none")
	}
	run.Checks = make([]healthjob.Result, len(checks))
	for i, raw := range checks {
		if run.Checks[i], err = decodeCheck(raw, fmt.Sprintf("checks[%d]", i)); err != nil {
			return nil, err
		}
	}
	return run, nil
}

func decodeCheck(raw json.RawMessage, at string) (healthjob.Result, *FieldError) {
	var c healthjob.Result
	var obj map[string]json.RawMessage
	if kind(raw) != "an object" || json.Unmarshal(raw, &obj) != nil {
		return c, fieldErr(at, "want an object with name, status and message, got %s", describe(raw))
	}
	var err *FieldError
	if c.Name, err = text(obj, "name", at+".name"); err != nil {
		return c, err
	}
	if n := utf8.RuneCountInString(c.Name); n == 0 || n > MaxName {
		return c, fieldErr(at+".name", "want 1 to %d characters, got %d", MaxName, n)
	}
	status, ok := obj["status"]
	switch s := string(bytes.TrimSpace(status)); {
	case !ok:
		return c, fieldErr(at+".status", "missing")
	case s == "0" || s == "1":
		c.Status, _ = strconv.Atoi(s)
	default:
		return c, fieldErr(at+".status", "want 0 or 1, got %s", describe(status))
	}
	if c.Message, err = text(obj, "message", at+".message"); err != nil {
		return c, err
	}
	if len(c.Message) > MaxMessage {
		return c, fieldErr(at+".message", "want at most %d bytes, got %d", MaxMessage, len(c.Message))
	}
	return c, nil
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
	if strings.IndexByte(s, 0) >= 0 {
		return "", fieldErr(field, "want text without NUL characters")
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
