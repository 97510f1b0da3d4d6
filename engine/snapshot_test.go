package engine

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ruleflow/ruleflow/qualification"
	"github.com/ruleflow/ruleflow/rules"
)

// snapshotRecord has a value of every type a snapshot keeps.
func snapshotRecord() rules.Record {
	return rules.Record{
		"s": "a \"quoted\"\n\x01 ü", "bad": "\xff\xfe", "empty": "", "i": int64(-1 << 62), "zero": int64(0), "f": 0.1,
		"inf": math.Inf(-1), "b": true, "no": false,
		"t":      time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		"old":    time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC),
		"n":      nil,
		"att":    &rules.Attachment{Name: "a.txt", ContentType: "text/plain", Data: []byte("x")},
		"amount": &qualification.CurrencyValue{Value: 12.5, Code: "EUR", ConversionDate: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Functional: []qualification.FunctionalAmount{{Code: "USD", Value: 13.75}}},
		"plain":  &qualification.CurrencyValue{Value: -1, Code: "USD"},
		"diary":  qualification.DiaryValue{{User: "jsmith", Timestamp: time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC), Text: "first"}, {Text: "unstamped"}},
	}
}

// wantSnapshot is what rec decodes back to: NULLs dropped, attachments without their data.
func wantSnapshot(rec rules.Record) rules.Record {
	want := rules.Record{}
	for k, v := range rec {
		switch x := v.(type) {
		case nil:
			continue
		case *rules.Attachment:
			v = &rules.Attachment{Name: x.Name, ContentType: x.ContentType}
		case qualification.CurrencyValue:
			v = &x
		}
		want[k] = v
	}
	return want
}

func TestSnapshotBinaryRoundTrip(t *testing.T) {
	rec := snapshotRecord()
	data, err := encodeSnapshot(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	if data[0] != snapshotBinary {
		t.Fatalf("encoding starts with %#x", data[0])
	}
	got, err := decodeSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := wantSnapshot(rec); !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n%#v\nwant\n%#v", got, want)
	}
	for n := range len(data) { // every truncation is refused, never a panic or a partial record
		if r, err := decodeSnapshot(data[:n]); err == nil {
			t.Fatalf("%d of %d bytes decoded to %v", n, len(data), r)
		}
	}
	if _, err := encodeSnapshot(nil, rules.Record{"x": []int{1}}); err == nil {
		t.Error("a []int was encoded")
	}
}

// TestSnapshotJSONStillDecodes: snapshots stored by the JSON encoding used before
// the binary one decode to the same values.
func TestSnapshotJSONStillDecodes(t *testing.T) {
	rec := snapshotRecord()
	delete(rec, "old") // the JSON encoding kept times as [seconds, nanoseconds] too: same values
	data, err := encodeJSONSnapshot(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeSnapshot(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	want := wantSnapshot(rec)
	// JSON decodes a currency's conversion date in the zone it was written in.
	for _, k := range []string{"amount", "diary"} {
		if fmt.Sprint(got[k]) != fmt.Sprint(want[k]) {
			t.Errorf("%s = %v, want %v", k, got[k], want[k])
		}
		delete(got, k)
		delete(want, k)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n%#v\nwant\n%#v", got, want)
	}
	// A stored literal, as the JSON encoder wrote it.
	lit := `{"Status":["s","New"],"TicketID":["i",7],"Due":["t",[1767323045,6]],"Raw":["S","//4="]}`
	got, err = decodeSnapshot([]byte(lit))
	if err != nil {
		t.Fatal(err)
	}
	want = rules.Record{"Status": "New", "TicketID": int64(7), "Due": time.Unix(1767323045, 6).UTC(), "Raw": "\xff\xfe"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %#v, want %#v", got, want)
	}
}

// FuzzSnapshot: any record of strings, integers, floats, booleans and times
// round-trips, and no input makes the decoder panic.
func FuzzSnapshot(f *testing.F) {
	data, err := encodeSnapshot(nil, snapshotRecord())
	if err != nil {
		f.Fatal(err)
	}
	f.Add("Status", "New", int64(3), 1.5, true, int64(1767323045), uint32(6), data)
	f.Add("", "\xff", int64(-1), math.NaN(), false, int64(-62135596800), uint32(0), []byte(`{"a":["s","b"]}`))
	f.Fuzz(func(t *testing.T, name, s string, i int64, fl float64, b bool, sec int64, nsec uint32, raw []byte) {
		_, _ = decodeSnapshot(raw) // must not panic
		rec := rules.Record{name + "s": s, name + "i": i, name + "f": fl, name + "b": b,
			name + "t": time.Unix(sec, int64(nsec%1e9)).UTC()}
		data, err := encodeSnapshot(nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeSnapshot(data)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(rec) {
			t.Fatalf("%d fields, want %d", len(got), len(rec))
		}
		for k, v := range rec {
			if x, ok := v.(float64); ok && math.IsNaN(x) {
				if g, ok := got[k].(float64); !ok || !math.IsNaN(g) {
					t.Errorf("%q = %v, want NaN", k, got[k])
				}
				continue
			}
			if got[k] != v {
				t.Errorf("%q = %#v, want %#v", k, got[k], v)
			}
		}
	})
}

func BenchmarkSnapshot(b *testing.B) {
	ev := benchEvent()
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeSnapshot(make([]byte, 0, snapshotSize(ev.After)), ev.After); err != nil {
				b.Fatal(err)
			}
		}
	})
	// paired alternates the two encodings in one loop, so that both see the same
	// load on a shared machine: ns/binary and ns/json are each one's mean.
	b.Run("paired", func(b *testing.B) {
		var bin, js time.Duration
		b.ReportAllocs()
		for b.Loop() {
			t0 := time.Now()
			if _, err := encodeSnapshot(make([]byte, 0, snapshotSize(ev.After)), ev.After); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if _, err := encodeJSONSnapshot(make([]byte, 0, 64+48*len(ev.After)), ev.After); err != nil {
				b.Fatal(err)
			}
			bin, js = bin+t1.Sub(t0), js+time.Since(t1)
		}
		b.ReportMetric(float64(bin.Nanoseconds())/float64(b.N), "ns/binary")
		b.ReportMetric(float64(js.Nanoseconds())/float64(b.N), "ns/json")
	})
	b.Run("encode_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeJSONSnapshot(make([]byte, 0, 64+48*len(ev.After)), ev.After); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// encodeJSONSnapshot is the JSON snapshot encoding stored before the binary one,
// kept to test that such snapshots still decode.
func encodeJSONSnapshot(b []byte, rec rules.Record) ([]byte, error) {
	b = append(b, '{')
	first := true
	for k, v := range rec {
		if v == nil {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		if !utf8.ValidString(k) {
			return nil, fmt.Errorf("field name %q is not valid UTF-8", k)
		}
		b = appendJSONString(b, k)
		b = append(b, `:["`...)
		switch x := v.(type) {
		case string:
			if !utf8.ValidString(x) { // JSON holds only UTF-8: keep the bytes as base64
				b = append(b, `S","`...)
				b = base64.StdEncoding.AppendEncode(b, []byte(x))
				b = append(b, '"')
				break
			}
			b = append(b, `s",`...)
			b = appendJSONString(b, x)
		case int64:
			b = append(b, `i",`...)
			b = strconv.AppendInt(b, x, 10)
		case float64:
			if math.IsInf(x, 0) || math.IsNaN(x) {
				b = append(b, `F","`...)
				b = strconv.AppendFloat(b, x, 'g', -1, 64)
				b = append(b, '"')
				break
			}
			b = append(b, `f",`...)
			b = strconv.AppendFloat(b, x, 'g', -1, 64)
		case bool:
			b = append(b, `b",`...)
			b = strconv.AppendBool(b, x)
		case time.Time:
			b = append(b, `t",[`...)
			b = strconv.AppendInt(b, x.Unix(), 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(x.Nanosecond()), 10)
			b = append(b, ']')
		default:
			tag, val := "", any(nil)
			switch y := v.(type) {
			case *qualification.CurrencyValue:
				tag, val = "c", y
			case qualification.CurrencyValue:
				tag, val = "c", &y
			case qualification.DiaryValue:
				tag, val = "d", y
			case *rules.Attachment:
				tag, val = "a", &rules.Attachment{Name: y.Name, ContentType: y.ContentType}
			default:
				return nil, fmt.Errorf("field %q: cannot keep a %T in a record snapshot", k, v)
			}
			j, err := json.Marshal(val)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", k, err)
			}
			b = append(b, tag...)
			b = append(b, `",`...)
			b = append(b, j...)
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}
