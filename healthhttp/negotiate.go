package healthhttp

import (
	"strings"
)

// mediaRange is one element of an Accept header.
type mediaRange struct {
	typ, sub string // lower case; "*" for a wildcard
	q        int    // weight in thousandths, 0 to 1000
}

// negotiate returns the index of the offer (a "type/subtype", in the
// server's order of preference) that the Accept header prefers, or -1 when
// the header accepts none. Each offer takes the weight of the most specific
// range that matches it; among offers of equal weight, the one whose range
// comes first in the header wins, then the server's order. A weight of 0
// refuses an offer. An absent, empty or malformed header counts as */*, so
// a client's mistake never becomes an error.
func negotiate(accept string, offers []string) int {
	ranges, ok := parseAccept(accept)
	if !ok || len(ranges) == 0 {
		ranges = []mediaRange{{typ: "*", sub: "*", q: 1000}}
	}
	best, bestQ, bestPos := -1, 0, 0
	for i, offer := range offers {
		typ, sub, _ := strings.Cut(offer, "/")
		q, pos, spec := 0, 0, 0
		for j, r := range ranges {
			s := 0
			switch {
			case r.typ == typ && r.sub == sub:
				s = 3
			case r.typ == typ && r.sub == "*":
				s = 2
			case r.typ == "*":
				s = 1
			}
			if s > spec {
				q, pos, spec = r.q, j, s
			}
		}
		if q > 0 && (best < 0 || q > bestQ || q == bestQ && pos < bestPos) {
			best, bestQ, bestPos = i, q, pos
		}
	}
	return best
}

// parseAccept parses an Accept header (RFC 9110, section 12.5.1). It
// reports false when any element is malformed.
func parseAccept(header string) ([]mediaRange, bool) {
	var ranges []mediaRange
	for _, elem := range splitUnquoted(header, ',') {
		elem = strings.TrimSpace(elem)
		if elem == "" {
			continue // the list syntax allows empty elements
		}
		params := splitUnquoted(elem, ';')
		typ, sub, ok := strings.Cut(strings.TrimSpace(params[0]), "/")
		if !ok || !isToken(typ) || !isToken(sub) || typ == "*" && sub != "*" {
			return nil, false
		}
		r := mediaRange{typ: strings.ToLower(typ), sub: strings.ToLower(sub), q: 1000}
		for _, p := range params[1:] {
			name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || !isToken(name) || !isToken(value) && !isQuoted(value) {
				return nil, false
			}
			if strings.EqualFold(name, "q") {
				if r.q, ok = parseQ(value); !ok {
					return nil, false
				}
			}
		}
		ranges = append(ranges, r)
	}
	return ranges, true
}

// parseQ parses a qvalue: "0" or "1", optionally with up to three decimals,
// never above 1.
func parseQ(s string) (int, bool) {
	if s == "" || s[0] != '0' && s[0] != '1' {
		return 0, false
	}
	q := int(s[0]-'0') * 1000
	if len(s) == 1 {
		return q, true
	}
	if s[1] != '.' || len(s) > 5 {
		return 0, false
	}
	scale := 100
	for _, c := range s[2:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		q += int(c-'0') * scale
		scale /= 10
	}
	return q, q <= 1000
}

// splitUnquoted splits s at sep, except inside quoted strings.
func splitUnquoted(s string, sep byte) []string {
	var parts []string
	quoted, escaped, start := false, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

func isQuoted(s string) bool {
	return len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"'
}
