package rules

// EnumFormat is how a JSON callout writes the values of selection fields.
type EnumFormat string

// The enum formats. A rule's JSON callout writes names unless it says value; an AR
// webhook writes values (AR's numbers, as in the AR sample "Status": 0) unless it
// says name.
const (
	EnumName  EnumFormat = "name"  // the option name: "Status": "New"
	EnumValue EnumFormat = "value" // the option's AR value: "Status": 0
)

// enumFormatProblem judges the enum_format of a callout of format f (webhooks are
// JSON): "" when it is fine, else the message.
func enumFormatProblem(e EnumFormat, f Format) string {
	switch e {
	case "":
		return ""
	case EnumName, EnumValue:
		if f != FormatJSON && f != "" {
			return "enum_format is only used with format json (this callout is " + string(f) + ")"
		}
		return ""
	}
	return "unknown enum_format \"" + string(e) + "\" (want name or value)"
}

// enumFormat is the enum format of the webhook's callbacks: value unless it says name.
func (w *Webhook) enumFormat() EnumFormat {
	if w.EnumFormat == "" {
		return EnumValue
	}
	return w.EnumFormat
}
