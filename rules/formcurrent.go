package rules

// Records stored under a form's former name — deliveries pending in the outbox,
// rendered and listed before the form was renamed — follow it to its new name, as
// registered webhooks and rules do (renamed_from).

// CurrentFormName returns the name the form called name has now: the declared form
// whose renamed_from lists name, else name itself.
func (c *Config) CurrentFormName(name string) string {
	if _, ok := c.Form(name); ok {
		return name
	}
	if f, ok := c.FormRenamedFrom(name); ok {
		return f.Name
	}
	return name
}

// FormNames returns every name records of the form called name may be stored
// under: its current name (CurrentFormName) followed by its renamed_from list.
func (c *Config) FormNames(name string) []string {
	cur := c.CurrentFormName(name)
	f, ok := c.Form(cur)
	if !ok {
		return []string{name}
	}
	return append([]string{cur}, f.RenamedFrom...)
}
