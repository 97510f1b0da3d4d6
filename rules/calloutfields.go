package rules

// CalloutField is one entry of a form's callout_fields: the key of a standard
// callout datum and the form field it is read from ("" when unmapped).
type CalloutField struct {
	Key   string // id, number, status, created_datetime or last_activity_datetime
	Field string
}

// Entries returns the callout_fields in wire order (design §5): id, number,
// status, created_datetime, last_activity_datetime. It is the one list of these
// keys; the loader, the validator and the encoders read it.
func (cf *CalloutFields) Entries() [5]CalloutField {
	return [5]CalloutField{
		{"id", cf.ID},
		{"number", cf.Number},
		{"status", cf.Status},
		{"created_datetime", cf.CreatedDatetime},
		{"last_activity_datetime", cf.LastActivityDatetime},
	}
}
