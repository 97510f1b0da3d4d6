package qualification

import (
	"strings"
	"testing"
)

func TestLike(t *testing.T) {
	tests := []struct {
		pattern, value string
		fold           bool
		want           bool
	}{
		{"Bob%ton", "Bobton", false, true},
		{"Bob%ton", "Bobby Newton", false, true},
		{"Bob%ton", "Bobby Newtons", false, false},
		{"%Bob%ton%", "xBobyton!", false, true},
		{"Jackson%", "Jackson Pollock", false, true},
		{"Jackson%", "Michael Jackson", false, false},
		{"%.manyos.de", "srv.manyos.de", false, true},
		{"%.manyos.de", "srv.manyos.de.evil", false, false},
		{"%router%", "the router died", false, true},
		{"%router%", "the Router died", false, false},
		{"%router%", "the Router died", true, true},
		{"jsmith", "jsmith", false, true},
		{"jsmith", "jsmith2", false, false},
		{"jsmith", "JSMITH", true, true},
		{"", "", false, true},
		{"", "x", false, false},
		{"%", "", false, true},
		{"%%", "anything", false, true},
		{"_", "a", false, true},
		{"_", "", false, false},
		{"_", "ab", false, false},
		{"a_c", "abc", false, true},
		{"a_c", "a☃c", false, true},
		{"[abc]x", "bx", false, true},
		{"[abc]x", "dx", false, false},
		{"[a-f]1", "e1", false, true},
		{"[a-f]1", "g1", false, false},
		{"[f-a]1", "c1", false, true},
		{"[^a-f]1", "g1", false, true},
		{"[^a-f]1", "c1", false, false},
		{"[^abc]", "b", false, false},
		{"[a-]", "-", false, true},
		{"[]]", "]", false, true},
		{"[_]%", "_x", false, true},
		{"[_]%", "ax", false, false},
		{"[%]", "%", false, true},
		{"[[]", "[", false, true},
		{"abc[", "abc[", false, true},
		{"abc[d", "abc[d", false, true},
		{"[a-z", "[a-z", false, true},
		{"[A-C]%", "bob", true, true},
		{"[a-c]%", "BOB", true, true},
		{"[^a-c]%", "BOB", true, false},
		{"%a%b%c%", "xxaxxbxxcxx", false, true},
		{"%a%b%c%", "xxaxxcxxbxx", false, false},
		{"%ab", "aab", false, true},
		{"a%a%a", "aaa", false, true},
		{"a%a%a", "aa", false, false},
		{"%_%_", "ab", false, true},
		{"%1000000005%", ";1000000001;1000000005;", false, true},
		{"naïve%", "naïveté", false, true},
		{"NAÏVE%", "naïveté", true, true},
		{"%ΣΑΣ", "σας", true, true},
		{"%K", "\u212a", true, true}, // Kelvin sign folds to K
	}
	for _, tt := range tests {
		got := compileLike(tt.pattern, tt.fold).match(tt.value)
		if got != tt.want {
			t.Errorf("%q LIKE %q (fold %v) = %v, want %v", tt.value, tt.pattern, tt.fold, got, tt.want)
		}
		// The general matcher must agree with every fast path.
		p := compileLike(tt.pattern, tt.fold)
		if g := p.general(tt.value); g != tt.want {
			t.Errorf("general: %q LIKE %q (fold %v) = %v, want %v", tt.value, tt.pattern, tt.fold, g, tt.want)
		}
	}
}

// TestLikeLinear checks that a pathological pattern does not backtrack
// exponentially: it must finish quickly on a long value.
func TestLikeLinear(t *testing.T) {
	p := compileLike(strings.Repeat("%a", 30)+"%b", false)
	v := strings.Repeat("a", 5000)
	if p.match(v) {
		t.Fatal("matched a value without b")
	}
}

func TestLikeAllocs(t *testing.T) {
	p := compileLike("%a_[b-d]%e", true)
	if n := testing.AllocsPerRun(100, func() { p.match("xxAxCyyE") }); n != 0 {
		t.Errorf("match allocates %v times, want 0", n)
	}
}
