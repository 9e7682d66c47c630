package policybench

import (
	"bytes"
	"strconv"
	"strings"
)

// The hand-written side of the decision path and of the explanation, for
// Rules(RuleCount): what a careful engineer would write for these rules alone.
// Each is checked against the engine in policybench_test.go: same rule, same
// bytes.

// handWrittenIndex maps each rule's customer_group values, lowered, to the
// rule: the same index the engine builds (every rule tests customer_group
// with IN, and no two rules share a value, so a value names one rule).
var handWrittenIndex = func() map[string]int {
	m := make(map[string]int, 2*RuleCount)
	for i := range handWrittenLower {
		m[handWrittenLower[i][0]], m[handWrittenLower[i][1]] = i, i
	}
	return m
}()

// HandWrittenIndexed is HandWritten with the index the engine uses, written by
// hand: the group, lowered once into a stack buffer, names the only rule that
// can match, whose domain is then checked. Input that is not short ASCII takes
// HandWritten's folding path.
func HandWrittenIndexed(data map[string]string) int {
	g, dom := data["customer_group"], data["email_from_domain"]
	var gb, db [64]byte
	lg, okG := lowerASCII(gb[:0], g)
	ld, okD := lowerASCII(db[:0], dom)
	if !okG || !okD {
		return handWrittenFold(g, dom)
	}
	i, ok := handWrittenIndex[string(lg)]
	if !ok || !bytes.Contains(ld, handWrittenDomains[i]) {
		return -1
	}
	return i
}

// HandWrittenDecision is the decision path by hand: HandWrittenIndexed, then
// the rule record, as the ledger stores it, written straight into a buffer.
// It returns the same bytes as the engine's record.
func HandWrittenDecision(data map[string]string) (int, []byte) {
	i := HandWrittenIndexed(data)
	g, okG := data["customer_group"]
	dom, okD := data["email_from_domain"]
	buf := make([]byte, 0, 160+2*(len(g)+len(dom)))
	buf = append(buf, `{"engine":1,"policy":{"name":"bench","version":1},"matched":`...)
	if i >= 0 {
		buf = append(buf, `"r`...)
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, `","tried":`...)
		buf = strconv.AppendInt(buf, int64(i+1), 10)
	} else {
		buf = append(buf, `null,"tried":200`...)
	}
	buf = append(buf, `,"values":{"customer_group":`...)
	buf = handValue(buf, g, okG)
	buf = append(buf, `,"email_from_domain":`...)
	buf = handValue(buf, dom, okD)
	return i, append(buf, "}}"...)
}

// handValue appends a recorded value: null when missing, else a JSON string,
// escaped when it has to be. It handles what the fixture's claims hold (valid
// UTF-8 without NUL); other text needs the ledger's base64 form.
func handValue(buf []byte, s string, ok bool) []byte {
	if !ok {
		return append(buf, "null"...)
	}
	return append(appendJSONText(append(buf, '"'), s), '"')
}

// appendJSONText appends s escaped for the inside of a JSON string: at once
// when nothing needs escaping, as in the fixture.
func appendJSONText(buf []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		c := s[i]
		plain = c >= 0x20 && c != '"' && c != '\\'
	}
	if plain {
		return append(buf, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			buf = append(buf, '\\', c)
		case c < 0x20:
			buf = append(buf, `\u00`...)
			buf = append(buf, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		default:
			buf = append(buf, c)
		}
	}
	return buf
}

// HandWrittenTrace writes the trace of Rules(RuleCount) for a claim, as the
// explanation renders it: a JSON array of {ruleId, matched, why}, one entry per
// rule tried, each reason worded as the engine words it. It is the
// straightforward function, written with the care HandWritten takes: the claim's
// two values lowered and quoted once, then each rule evaluated in order (the
// group, then the domain) and its entry appended.
func HandWrittenTrace(data map[string]string) []byte {
	g, okG := data["customer_group"]
	dom, okD := data["email_from_domain"]
	var gb, db [64]byte
	lg, asciiG := lowerASCII(gb[:0], g)
	ld, asciiD := lowerASCII(db[:0], dom)
	qg := appendJSONText(nil, strconv.Quote(g))
	qd := appendJSONText(nil, strconv.Quote(dom))
	buf := make([]byte, 0, 120*RuleCount)
	buf = append(buf, '[')
	for i := range handWrittenValues {
		v, low := &handWrittenValues[i], &handWrittenLower[i]
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"ruleId":"r`...)
		buf = strconv.AppendInt(buf, int64(i), 10)
		var group, domain bool
		if asciiG {
			group = g != "" && (string(lg) == low[0] || string(lg) == low[1])
		} else {
			group = strings.EqualFold(g, v[0]) || strings.EqualFold(g, v[1])
		}
		if group && asciiD {
			domain = dom != "" && bytes.Contains(ld, handWrittenDomains[i])
		} else if group {
			domain = dom != "" && containsFold(dom, v[2])
		}
		switch {
		case !group:
			buf = append(buf, `","matched":false,"why":"customer_group IN `...)
			buf = append(buf, v[0]...)
			buf = append(buf, ", "...)
			buf = append(buf, v[1]...)
			buf = reasonEnd(buf, okG, qg, "customer_group")
		case !domain:
			buf = append(buf, `","matched":false,"why":"email_from_domain CONTAINS `...)
			buf = append(buf, v[2]...)
			buf = reasonEnd(buf, okD, qd, "email_from_domain")
		default:
			buf = append(buf, `","matched":true,"why":"all conditions hold"}]`...)
			return buf
		}
	}
	return append(buf, ']')
}

func reasonEnd(buf []byte, present bool, quoted []byte, attr string) []byte {
	if !present {
		buf = append(buf, ": the claim has no "...)
		buf = append(buf, attr...)
		return append(buf, `"}`...)
	}
	buf = append(buf, ": "...)
	buf = append(buf, quoted...)
	return append(buf, ` does not match"}`...)
}
