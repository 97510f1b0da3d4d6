package qualification

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// corpusSchema declares every field the public corpus (testdata/corpus.tsv)
// refers to, with AR System–like IDs and types.
func corpusSchema(tb testing.TB) *Schema {
	yesNo := []string{"No", "Yes"}
	return mustSchema(tb, "Corpus",
		fld("Request ID", 1, Character),
		fld("Submitter", 2, Character),
		fld("Create-date", 3, DateTime),
		fld("Last Modified Date", 6, DateTime),
		sel("Status", 7, "New", "Assigned", "In Progress", "Pending", "Resolved", "Closed", "Cancelled", "Enabled", "Current", "published"),
		fld("Short Description", 8, Character),
		fld("InstanceId", 179, Character),
		fld("Description", 1000000000, Character),
		fld("Detailed Description", 1000000156, Character),
		fld("Infrastructure Change ID", 1000000182, Character),
		fld("Assigned Group", 1000000217, Character),
		fld("Assigned-to", 0, Character),
		fld("Assigned To", 0, Character),
		fld("Category", 0, Character),
		sel("Priority", 0, "Critical", "High", "Medium", "Low"),
		// HPD:Help Desk's enumerations with AR's own values.
		Field{Name: "Urgency", Type: Selection, Options: []string{"1-Critical", "2-High", "3-Medium", "4-Low"}, Values: []int64{1000, 2000, 3000, 4000}},
		Field{Name: "Impact", Type: Selection, Options: []string{"1-Extensive/Widespread", "2-Significant/Large", "3-Moderate/Limited", "4-Minor/Localized"}, Values: []int64{1000, 2000, 3000, 4000}},
		fld("Company", 0, Character),
		fld("Organization", 0, Character),
		fld("Department", 0, Character),
		fld("Site", 0, Character),
		fld("Type", 0, Character),
		fld("Incident Number", 0, Character),
		fld("Submit Date", 0, DateTime),
		fld("Form Type", 0, Character),
		fld("DatasetId", 0, Character),
		fld("PeopleGroup Form Entry ID", 0, Character),
		fld("Remedy Login ID", 0, Character),
		fld("First Name", 0, Character),
		fld("Data Set Id", 0, Character),
		sel("AssetLifecycleStatus", 0, "Ordered", "Received", "Being Assembled", "Deployed", "In Repair", "Down",
			"End of Life", "Transferred", "Delete", "In Inventory", "On Loan", "Disposed", "Reserved", "Return to Vendor"),
		fld("Serial Number", 0, Character),
		fld("Item", 0, Character),
		fld("Name", 0, Character),
		fld("DNS Host Name", 0, Character),
		fld("Cost Center Name", 0, Character),
		fld("Cost Center Code", 0, Character),
		sel("Vendor Group", 0, yesNo...),
		fld("Support Organization", 0, Character),
		fld("Work Order ID", 0, Character),
		sel("License Type", 0, "Fixed", "Floating", "Site"),
		fld("Entry ID", 0, Character),
		fld("Item Name", 0, Character),
		sel("Support Staff", 0, yesNo...),
		sel("Assignment Availability", 0, yesNo...),
		sel("Notification Availability", 0, yesNo...),
		sel("On Call Group Flag", 0, yesNo...),
		fld("Support Group ID", 0, Character),
		fld("Login ID", 0, Character),
		fld("For", 0, Character),
		fld("ReconciliationIdentity", 0, Character),
		fld("Group List", 0, Character),
		sel("Profile Status", 0, "Proposed", "Enabled", "Offline", "Obsolete", "Archive", "Delete"),
		fld("Template Name", 0, Character),
		fld("Status Template", 0, Character),
		sel("Change Timing", 0, "Emergency", "Expedited", "Latent", "Normal", "No Impact"),
		fld("Scheduled Start Date", 0, DateTime),
		fld("Assignee Login ID", 0, Character),
		fld("Status_Reason_Hidden", 0, Character),
		fld("Assigned Group*+", 0, Character),
	)
}

func readTSV(tb testing.TB, path string) [][]string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		rows = append(rows, strings.Split(line, "\t"))
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return rows
}

// TestCorpus parses every qualification of the public corpus, compiles it
// against corpusSchema in both NULL modes and evaluates it against the record
// of testdata/corpus_expect.tsv, asserting the expected result.
func TestCorpus(t *testing.T) {
	corpus := readTSV(t, "testdata/corpus.tsv")
	expect := readTSV(t, "testdata/corpus_expect.tsv")
	if len(corpus) != 69 || len(expect) != len(corpus) {
		t.Fatalf("corpus has %d rows and expectations %d, want 69 each", len(corpus), len(expect))
	}
	schema := corpusSchema(t)
	trues := 0
	for i, row := range corpus {
		src := row[0]
		exp := expect[i]
		if n, _ := strconv.Atoi(exp[0]); n != i+1 {
			t.Fatalf("corpus_expect.tsv row %d is numbered %s", i+1, exp[0])
		}
		want := exp[1] == "true"
		if want {
			trues++
		}
		t.Run(strconv.Itoa(i+1), func(t *testing.T) {
			if _, err := Parse(src); err != nil {
				t.Fatalf("Parse(%q): %v", src, err)
			}
			// Without a schema every corpus row must compile too.
			if _, err := Compile(src, Options{}); err != nil {
				t.Fatalf("Compile(%q) without schema: %v", src, err)
			}
			rec := decodeRecord(t, schema, exp[2])
			for _, mode := range []NullMode{Workflow, Search} {
				p, err := Compile(src, Options{Schema: schema, Nulls: mode})
				if err != nil {
					t.Fatalf("Compile(%q, %v): %v", src, mode, err)
				}
				env := NewEnv(&Input{Operation: "update", Form: "Corpus", Before: rec, After: rec, User: "jsmith", Now: testNow})
				got, err := p.Eval(env)
				if err != nil {
					t.Fatalf("Eval(%q, %v) with %s: %v", src, mode, exp[2], err)
				}
				if got != want {
					t.Errorf("Eval(%q, %v) with %s = %v, want %v", src, mode, exp[2], got, want)
				}
			}
		})
	}
	if trues == 0 || trues == len(corpus) {
		t.Errorf("expectations are one-sided: %d of %d true", trues, len(corpus))
	}
}

// TestCorpusAR evaluates testdata/corpus_ar.tsv, qualifications over AR's
// enumerations with values, currency, diary, date and time-of-day fields, status
// history and EXTERNAL(), against helpDeskSchema and the record of arRecord.
func TestCorpusAR(t *testing.T) {
	rows := readTSV(t, "testdata/corpus_ar.tsv")
	if len(rows) < 30 {
		t.Fatalf("corpus_ar.tsv has %d rows, want at least 30", len(rows))
	}
	rec, hist := arRecord()
	trues := 0
	for i, row := range rows {
		src, want := row[0], row[1] == "true"
		if want {
			trues++
		}
		t.Run(strconv.Itoa(i+1), func(t *testing.T) {
			for _, mode := range []NullMode{Workflow, Search} {
				p, err := Compile(src, Options{Schema: helpDeskSchema(t), Nulls: mode})
				if err != nil {
					t.Fatalf("Compile(%q, %v): %v", src, mode, err)
				}
				got, err := p.Eval(NewEnv(&Input{Operation: "update", Form: "HPD:Help Desk", Before: rec, After: rec, Now: testNow, StatusHistory: hist}))
				if err != nil {
					t.Fatalf("Eval(%q, %v): %v", src, mode, err)
				}
				if got != want {
					t.Errorf("Eval(%q, %v) = %v, want %v (%s)", src, mode, got, want, row[2])
				}
			}
		})
	}
	if trues == 0 || trues == len(rows) {
		t.Errorf("expectations are one-sided: %d of %d true", trues, len(rows))
	}
}
