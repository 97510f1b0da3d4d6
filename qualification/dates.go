package qualification

import (
	"strings"
	"time"
)

// dateLayouts are the date-time literal formats accepted in quotes, tried in
// order. Formats without a zone are read in Options.Location. A layout with only
// a date means midnight. Month names and AM/PM are case-insensitive.
var dateLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"1/2/2006 3:04:05 PM",
	"1/2/2006 3:04:05PM",
	"1/2/2006 3:04 PM",
	"1/2/2006 3:04PM",
	"1/2/2006 15:04:05",
	"1/2/2006 15:04",
	"1/2/2006",
	"1/2/06 3:04:05 PM",
	"1/2/06 3:04:05PM",
	"1/2/06 3:04 PM",
	"1/2/06 3:04PM",
	"1/2/06 15:04:05",
	"1/2/06 15:04",
	"1/2/06",
	"January 2, 2006 3:04:05 PM",
	"January 2, 2006 3:04 PM",
	"January 2, 2006 15:04:05",
	"January 2, 2006",
	"Jan 2, 2006 3:04:05 PM",
	"Jan 2, 2006",
	"2 January 2006",
	"2-Jan-2006",
}

// DateFormats lists the accepted date-time literal formats, for messages and documentation.
const DateFormats = `RFC 3339 (2006-01-02T15:04:05Z07:00), 2006-01-02 15:04:05, 2006-01-02, 01/02/2006, 01/02/06, ` +
	`1/2/2006 3:04:05 PM, 1/2/2006 3:04PM, January 2, 2006`

// ParseDateTime parses a date-time literal in one of the accepted formats. A
// literal without a zone is read in loc (nil means UTC).
func ParseDateTime(s string, loc *time.Location) (time.Time, bool) {
	if loc == nil {
		loc = time.UTC
	}
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 || !strings.ContainsAny(s, "0123456789") {
		return time.Time{}, false // every accepted format has digits
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	u := strings.ToUpper(s)
	for _, layout := range dateLayouts {
		if t, err := time.ParseInLocation(layout, u, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// timeOfDayLayouts are the formats accepted for time-of-day literals.
var timeOfDayLayouts = []string{"15:04:05", "15:04", "3:04:05 PM", "3:04:05PM", "3:04 PM", "3:04PM"}

// parseTimeOfDay parses a time-of-day literal into seconds since midnight.
func parseTimeOfDay(s string) (int64, bool) {
	u := strings.ToUpper(strings.TrimSpace(s))
	for _, layout := range timeOfDayLayouts {
		if t, err := time.Parse(layout, u); err == nil {
			return int64(t.Hour()*3600 + t.Minute()*60 + t.Second()), true
		}
	}
	return 0, false
}
