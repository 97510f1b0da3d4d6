package qualification

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// itemString renders items compactly as TOKEN@offset:value.
func itemString(items []Item) string {
	var parts []string
	for _, it := range items {
		s := it.Tok.String() + "@" + itoaSmall(it.Pos)
		if it.Tok == FIELD || it.Tok == STRING || it.Tok == DOLLAR || it.Tok == NUMBER || it.Tok == IDENT || it.Tok == ILLEGAL {
			s += ":" + it.Val
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestLex(t *testing.T) {
	tests := []struct {
		input, want string
	}{
		{`'Status'="New"`, `field@0:Status =@8 string@9:New end of qualification@14`},
		{`"Deployed"AND'ClassId'!="BMC_PERSON"`, `string@0:Deployed AND@10 field@13:ClassId !=@22 string@24:BMC_PERSON end of qualification@36`},
		{`('Status'="New")OR('Status'="Assigned")`, `(@0 field@1:Status =@9 string@10:New )@15 OR@16 (@18 field@19:Status =@27 string@28:Assigned )@38 end of qualification@39`},
		{`'Doug''s Requests' = "Robert ""Bobby"" Smith"`, `field@0:Doug's Requests =@19 string@21:Robert "Bobby" Smith end of qualification@45`},
		{`a and b Or c nOt d like e`, `word@0:a AND@2 word@6:b OR@8 word@11:c NOT@13 word@17:d LIKE@19 word@24:e end of qualification@25`},
		{`&& || ! != = < <= > >= + - * / %`, `AND@0 OR@3 NOT@6 !=@8 =@11 <@13 <=@15 >@18 >=@20 +@23 -@25 *@27 /@29 %@31 end of qualification@32`},
		{`!!=`, `NOT@0 !=@1 end of qualification@3`},
		{`12 1.5 007 3.`, `number@0:12 number@3:1.5 number@7:007 number@11:3 ILLEGAL@12:unexpected character '.'`},
		{`$USER$ $NULL$ $536870919$ $Field Name$`, `$...$@0:USER $...$@7:NULL $...$@14:536870919 $...$@26:Field Name end of qualification@38`},
		{"'A'\n\t=\r\n\"x\"", "field@0:A =@5 string@8:x end of qualification@11"},
		{`'Größe' = "naïve ☃"`, `field@0:Größe =@10 string@12:naïve ☃ end of qualification@24`},
		{``, `end of qualification@0`},
		{`"abc`, `ILLEGAL@0:unterminated string "abc`},
		{`'abc`, `ILLEGAL@0:unterminated field reference 'abc`},
		{`'x' = ''`, `field@0:x =@4 ILLEGAL@6:empty field reference ''`},
		{`$USER`, `ILLEGAL@0:unterminated $...$ token $USER`},
		{"$US\nER$", `ILLEGAL@0:unterminated $...$ token $US` + "\n" + `ER$`},
		{`$$`, `ILLEGAL@0:empty keyword $$`},
		{`'a' & 'b'`, `field@0:a ILLEGAL@4:unexpected character '&' (use && or AND)`},
		{`'a' | 'b'`, `field@0:a ILLEGAL@4:unexpected character '|' (use || or OR)`},
		{`'a' = #`, `field@0:a =@4 ILLEGAL@6:unexpected character '#'`},
		{`"a very long unterminated string literal`, `ILLEGAL@0:unterminated string "a very long unterminate...`},
	}
	for _, tt := range tests {
		got := itemString(Lex(tt.input))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Lex(%q) mismatch (-want +got):\n%s", tt.input, diff)
		}
	}
}

func TestTokenString(t *testing.T) {
	tests := []struct {
		tok  Token
		want string
	}{
		{AND, "AND"}, {NEQ, "!="}, {LIKE, "LIKE"}, {EOF, "end of qualification"}, {Token(99), "Token(99)"}, {Token(-3), "Token(-3)"},
	}
	for _, tt := range tests {
		if got := tt.tok.String(); got != tt.want {
			t.Errorf("Token(%d).String() = %q, want %q", int(tt.tok), got, tt.want)
		}
	}
}
