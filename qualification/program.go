package qualification

// Program is a compiled qualification. This is a placeholder the qualification
// implementation replaces.
type Program struct{}
