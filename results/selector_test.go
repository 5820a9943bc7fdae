package results

import (
	"strings"
	"testing"
)

func TestParseSelector(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Selector
		err  string
	}{
		{"total", Total, ""},
		{" total ", Total, ""},
		{"offset", Selector{Name: "offset"}, ""},
		{"GET /users", Selector{Name: "GET /users"}, ""},
		{"offset{depth=100}", Selector{Name: "offset", Group: "depth=100"}, ""},
		{" offset { depth=100 } ", Selector{Name: "offset", Group: "depth=100"}, ""},
		{"offset{depth=100,sort=id}", Selector{Name: "offset", Group: "depth=100,sort=id"}, ""},
		{"{depth=100}", Selector{Group: "depth=100"}, ""},
		{"offset{a={b}}", Selector{Name: "offset", Group: "a={b}"}, ""},
		{`GET /users/\{id}`, Selector{Name: "GET /users/{id}"}, ""},
		{`GET /users/\{id}{v=1}`, Selector{Name: "GET /users/{id}", Group: "v=1"}, ""},
		{`\total`, Selector{Name: "total"}, ""},
		{`a\\b`, Selector{Name: `a\b`}, ""},
		{`\ a\ `, Selector{Name: " a "}, ""},
		// The old compare spelling is a name like any other; compare
		// says so when nothing matches it.
		{"name=offset", Selector{Name: "name=offset"}, ""},
		{"", Selector{}, "empty selector"},
		{"offset{depth=100", Selector{}, "no closing }"},
		{"offset{}", Selector{}, "empty group"},
		{"offset}", Selector{Name: "offset}"}, ""},
		{"{ }", Selector{}, "empty group"},
		{`a\`, Selector{}, "nothing after"},
		{"flow:checkout", FlowSelector("checkout"), ""},
		{" flow: checkout ", FlowSelector("checkout"), ""},
		{"flow:total", FlowSelector("total"), ""},
		{"flow:a:b", FlowSelector("a:b"), ""},
		{`flow:\{x}`, FlowSelector("{x}"), ""},
		{`\flow:checkout`, Selector{Name: "flow:checkout"}, ""},
		{"flows", Selector{Name: "flows"}, ""},
		{"flow:", Selector{}, "empty flow name"},
		{"flow:checkout{step=1}", Selector{}, "a flow has no tag groups"},
	} {
		got, err := ParseSelector(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseSelector(%q) = %+v, %v; want an error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSelector(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestSelectorString(t *testing.T) {
	for sel, want := range map[Selector]string{
		Total:                                  "total",
		{Name: "offset"}:                       "offset",
		{Name: "offset", Group: "depth=100"}:   "offset{depth=100}",
		{Group: "depth=100"}:                   "{depth=100}",
		{Name: "total"}:                        `\total`,
		{Name: "GET /users/{id}"}:              `GET /users/\{id}`,
		{Name: " padded "}:                     `\ padded\ `,
		{Name: `back\slash`, Group: "k=v"}:     `back\\slash{k=v}`,
		{Name: "totally", Group: "depth=1000"}: "totally{depth=1000}",
		FlowSelector("checkout"):               "flow:checkout",
		FlowSelector("total"):                  "flow:total",
		FlowSelector(" a{b} "):                 `flow:\ a\{b}\ `,
		{Name: "flow:checkout"}:                `\flow:checkout`,
		{Name: "flow:x", Group: "k=v"}:         `\flow:x{k=v}`,
	} {
		if got := sel.String(); got != want {
			t.Errorf("%+v.String() = %q, want %q", sel, got, want)
		}
		back, err := ParseSelector(want)
		if err != nil || back != sel {
			t.Errorf("ParseSelector(%q) = %+v, %v; want %+v", want, back, err, sel)
		}
	}
}

// FuzzParseSelector checks that String writes what ParseSelector accepts:
// every selector it parses, written out and parsed again, is the same.
func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{"total", "offset", "offset{depth=100}", "{depth=100}", `a\{b}{c}`, `\total`, " a { b } ", `\ `, "{}}", "flow:checkout", `\flow:x`, `flow: a\ `} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := ParseSelector(s)
		if err != nil {
			return
		}
		again, err := ParseSelector(sel.String())
		if err != nil {
			t.Fatalf("ParseSelector(%q) = %+v, whose String %q does not parse: %v", s, sel, sel.String(), err)
		}
		if again != sel {
			t.Fatalf("ParseSelector(%q) = %+v; String %q parses as %+v", s, sel, sel.String(), again)
		}
	})
}
