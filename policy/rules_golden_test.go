package policy

import (
	"fmt"
	"strings"
)

// goldenCase is a rule set and the claims its traces are written for.
type goldenCase struct {
	name   string
	rules  []Rule
	claims []map[string]string
}

// goldenRuleCases is a spread of rule sets and claims whose traces
// testdata/rule_traces.golden holds as the ledger stored them before
// decisions stopped writing traces (EvaluateRules and Trace.MarshalJSON at
// e43ce66). Add cases at the end; the golden file names each by case and
// claim index.
func goldenRuleCases() []goldenCase {
	many := make([]Rule, 0, 60)
	for i := range 50 {
		many = append(many, Rule{ID: fmt.Sprintf("g%d", i), When: []Condition{
			cond("customer_group", OpIn, fmt.Sprintf("Group-%d", i), fmt.Sprintf("ALT-%d", i)),
			cond("email_from_domain", OpContains, fmt.Sprintf("domain%d.example", i)),
		}})
		if i%10 == 7 {
			many = append(many, Rule{ID: fmt.Sprintf("c%d", i), When: []Condition{cond("email_subject", OpContains, "urgent")}})
		}
	}
	many = append(many, Rule{ID: "default"})
	wide := []Rule{}
	wideClaim := map[string]string{}
	for i := range 12 {
		a := fmt.Sprintf("attr%02d_name", i)
		wide = append(wide, Rule{ID: fmt.Sprintf("w%d", i), When: []Condition{cond(a, OpIn, "x"), cond(fmt.Sprintf("attr%02d_name", 11-i), OpContains, "y")}})
		wideClaim[a] = fmt.Sprintf("Value %d", i)
	}
	return []goldenCase{
		{"docs example", []Rule{
			{ID: "vip", When: []Condition{cond("customer_group", OpIn, "VIP", "Gold")}},
			{ID: "a-to-m", When: []Condition{cond("customer_name", OpNameRangeStart, "A"), cond("customer_name", OpNameRangeEnd, "M")}},
			{ID: "everything-else"},
		}, []map[string]string{
			{"customer_group": "gold"}, {"customer_group": "Basic", "customer_name": "Mason"},
			{"customer_group": "Basic", "customer_name": "Zed"}, {}, {"customer_group": "", "customer_name": ""},
		}},
		{"escapes", []Rule{
			{ID: `r"1`, When: []Condition{cond("customer_group", OpIn, "VIP", `Gold "A"`)}},
			{ID: "r2", When: []Condition{cond("email_subject", OpContains, "<urgent> & \\ now")}},
			{ID: "r3", When: []Condition{cond("missing_attr", OpIn, "x")}},
			{ID: "r4\t", When: []Condition{cond("customer_group", OpIn, "Basic\tTab", "\u2028")}},
		}, []map[string]string{
			{"customer_group": "Basic", "email_subject": "hello"},
			{"customer_group": "quote \" back\\slash \x01 ctrl é ünï", "email_subject": "\u2028line"},
			{"customer_group": "bad utf8 \xff\xfe", "email_subject": ""},
			{"customer_group": "nul \x00 inside", "missing_attr": "X"},
			{"customer_group": "\x01starts with U+0001"},
		}},
		{"unicode folding", []Rule{
			{ID: "kelvin", When: []Condition{cond("unit", OpIn, "\u212a", "\u017fmall")}},
			{ID: "sigma", When: []Condition{cond("word", OpIn, "ΣΟΦΟΣ")}},
			{ID: "contains", When: []Condition{cond("word", OpContains, "ß", "\u017f")}},
			{ID: "range", When: []Condition{cond("city_name", OpNameRangeStart, "é"), cond("city_name", OpNameRangeEnd, "Ω")}},
		}, []map[string]string{
			{"unit": "k"}, {"unit": "SMALL"}, {"word": "σοφος"}, {"word": "σοφοσ"}, {"word": "STRASSE"}, {"word": "ſ"},
			{"city_name": "Évian"}, {"city_name": "zürich"}, {"city_name": "\xffbad"}, {"unit": "K", "word": "ς"},
		}},
		{"indexed, first match kept", many, []map[string]string{
			{"customer_group": "group-49", "email_from_domain": "mail.domain49.example"},
			{"customer_group": "alt-3", "email_from_domain": "x.DOMAIN3.example", "email_subject": "URGENT"},
			{"customer_group": "group-20", "email_from_domain": "domain20.example", "email_subject": "urgent please"},
			{"customer_group": "group-20"}, {"email_subject": "nothing"}, {},
		}},
		{"more attributes than the memo", wide, []map[string]string{
			wideClaim, {"attr05_name": "X", "attr06_name": "yy"}, {"attr00_name": "x", "attr11_name": strings.Repeat("long ", 40) + "Y"},
		}},
		{"literal rules", []Rule{
			{ID: "empty contains", When: []Condition{cond("a", OpContains, "")}},
			{ID: "unknown operator", When: []Condition{cond("a", Operator("LIKE"), "x")}},
			{ID: "no values", When: []Condition{cond("a", OpIn)}},
			{ID: "", When: []Condition{cond("b", OpNameRangeStart, ""), cond("b", OpNameRangeEnd, "zz")}},
			{ID: "both", When: []Condition{cond("a", OpIn, "A"), cond("a", OpIn, "a", "b")}},
		}, []map[string]string{{"a": "anything"}, {"a": ""}, {"b": "Bee"}, {"b": "\ufffd"}, {"a": "A"}, {}}},
	}
}
