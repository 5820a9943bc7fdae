package report_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/report"
)

// TestChecksInReports finds the failed checks of a request, counted per
// check, in the text summary, the Markdown report and the JSON summary.
func TestChecksInReports(t *testing.T) {
	r := fixture(t, "ok")
	st := r.Requests[0]
	st.Checks = map[string]uint64{"json data.state": 3, "status": 1}
	name := st.Key()
	var text, md, js bytes.Buffer
	if err := report.WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	if want := "  checks     " + name + ": json data.state ×3   status ×1"; !strings.Contains(text.String(), want) {
		t.Errorf("text lacks %q:\n%s", want, text.String())
	}
	if want := "Checks failed: `" + name + "` json data.state ×3, status ×1"; !strings.Contains(md.String(), want) {
		t.Errorf("Markdown lacks %q:\n%s", want, md.String())
	}
	var sum struct {
		Requests map[string]struct {
			Checks map[string]uint64 `json:"checks"`
		} `json:"requests"`
	}
	if err := json.Unmarshal(js.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	if got := sum.Requests[name].Checks; got["json data.state"] != 3 || got["status"] != 1 || len(got) != 2 {
		t.Errorf("JSON checks of %s: %v", name, got)
	}
}
