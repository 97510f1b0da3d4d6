package qualification

import "slices"

// FieldSet is a small set of field names that many programs are asked about
// (Program.ReadsAny): the fields a pass of rules changed, say. For programs
// compiled against a schema of at most 64 fields the question is one AND of
// bit masks. A FieldSet is not safe for concurrent use; its zero value is empty.
type FieldSet struct {
	names  []string
	schema *Schema // what mask is for; nil: not computed
	mask   uint64  // bit i: schema.Fields[i] is in the set
	other  bool    // a name that is not a field of schema
}

// Add adds name to the set.
func (s *FieldSet) Add(name string) {
	if !slices.Contains(s.names, name) {
		if s.names == nil {
			s.names = make([]string, 0, 4)
		}
		s.names = append(s.names, name)
		s.schema = nil
	}
}

// Len returns the number of names in the set.
func (s *FieldSet) Len() int { return len(s.names) }

// Reset empties the set, keeping its storage.
func (s *FieldSet) Reset() { s.names, s.schema = s.names[:0], nil }

// maskFor returns the set as a mask of schema's field indexes; other reports
// that a name is not a field of schema (or schema is too large for a mask).
func (s *FieldSet) maskFor(schema *Schema) (mask uint64, other bool) {
	if s.schema != schema {
		s.schema, s.mask, s.other = schema, 0, len(schema.Fields) > 64
		for _, n := range s.names {
			if i, ok := schema.byName[n]; ok && i < 64 {
				s.mask |= 1 << i
			} else {
				s.other = true
			}
		}
	}
	return s.mask, s.other
}

// ReadsAny reports whether the qualification reads a field of s (in any view:
// plain, TR. or DB.), as Reads does for each name of s: always, when s is not
// empty and the qualification uses EXTERNAL().
func (p *Program) ReadsAny(s *FieldSet) bool {
	if len(s.names) == 0 {
		return false
	}
	if p.readsAll {
		return true
	}
	if p.opts.Schema != nil && p.maskOK {
		if mask, other := s.maskFor(p.opts.Schema); !other {
			return p.mask&mask != 0
		}
	}
	for _, n := range s.names {
		if p.Reads(n) {
			return true
		}
	}
	return false
}

// readMask computes p.mask: the program's fields as a mask of its schema's
// field indexes, when all of them fit one.
func (p *Program) readMask() {
	s := p.opts.Schema
	if s == nil {
		return
	}
	var mask uint64
	for _, n := range p.fields {
		i, ok := s.byName[n]
		if !ok || i >= 64 {
			return
		}
		mask |= 1 << i
	}
	p.mask, p.maskOK = mask, true
}
