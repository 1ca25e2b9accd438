// Package glob is pipewright's one path glob: the monorepo `paths` of
// pipewright.yaml (matched by the generated triggers, in CEL, with the
// regular expression Regexp returns) and the lint config's ignore paths use
// it, so a pattern means the same everywhere and everything Compile accepts
// can match.
//
// Paths are slash-separated and relative to the repository root, as GitHub
// lists changed files. Syntax:
//
//   - any run of characters within one path segment
//     ?       one character (not /)
//     [abc]   one character of a class; [a-z] ranges, [!x] or [^x] negation (never /)
//     \x      x itself
//     **      as a whole segment: any number of segments, none included
//     dir/    a trailing slash: everything below dir (dir/**)
//
// Anything else, any Unicode letter included, matches itself.
package glob

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Pattern is a compiled glob.
type Pattern struct {
	src string
	re  *regexp.Regexp
}

// Error is a glob Compile refused, with a hint for the author.
type Error struct {
	Glob, Msg, Hint string
}

func (e *Error) Error() string { return fmt.Sprintf("glob %q: %s (hint: %s)", e.Glob, e.Msg, e.Hint) }

// Compile checks a glob and compiles it.
func Compile(g string) (*Pattern, error) {
	re, err := translate(g)
	if err != nil {
		return nil, err
	}
	return &Pattern{src: g, re: regexp.MustCompile(re)}, nil
}

// MustCompile is Compile for literal globs in code.
func MustCompile(g string) *Pattern {
	p, err := Compile(g)
	if err != nil {
		panic(err)
	}
	return p
}

// Match reports whether a slash path matches the whole pattern.
func (p *Pattern) Match(path string) bool { return p.re.MatchString(path) }

// Regexp is the anchored RE2 expression of the pattern (CEL's matches()
// and Go's regexp both speak RE2).
func (p *Pattern) Regexp() string { return p.re.String() }

func (p *Pattern) String() string { return p.src }

func translate(g string) (string, error) {
	bad := func(msg, hint string) (string, error) { return "", &Error{Glob: g, Msg: msg, Hint: hint} }
	switch {
	case g == "":
		return bad("empty", "a glob such as services/api/** or *.go")
	case !utf8.ValidString(g):
		return bad("not valid UTF-8", "write the path as the repository spells it")
	case strings.HasPrefix(g, "/"):
		return bad("starts with /", "paths are relative to the repository root: drop the leading /")
	case strings.HasPrefix(g, "./") || g == ".":
		return bad("starts with ./", "paths are relative to the repository root: drop the ./")
	case strings.Contains(g, "//"):
		return bad("has an empty path segment (//)", "one / between folders")
	}
	for _, seg := range strings.Split(strings.TrimSuffix(g, "/"), "/") {
		if seg == "." || seg == ".." {
			return bad("has a "+seg+" segment", "name folders from the repository root; GitHub lists paths without . or ..")
		}
		if strings.Contains(seg, "**") && seg != "**" {
			return bad("** inside a segment ("+seg+")", "** stands for whole folders (a/**/b); use * within a name")
		}
	}
	if strings.HasSuffix(g, "/") {
		g += "**"
	}
	var b strings.Builder
	b.WriteString("^")
	rs := []rune(g)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '*':
			if i+1 < len(rs) && rs[i+1] == '*' { // a whole segment, checked above
				i++
				switch {
				case i+1 < len(rs): // "**/": any folders, none included
					i++
					b.WriteString("(?:[^/]+/)*")
				case i == 1: // the whole glob
					b.WriteString(".*")
				default: // "/**" at the end: anything below; drop the / already written
					s := strings.TrimSuffix(b.String(), "/")
					b.Reset()
					b.WriteString(s)
					b.WriteString("/.+")
				}
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '\\':
			if i+1 == len(rs) {
				return bad("ends with a lone \\", `\x stands for x itself; write \\ for a backslash`)
			}
			i++
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		case '[':
			end, class, err := charClass(rs, i)
			if err != "" {
				return bad(err, "a class such as [abc], [a-z] or [!x], closed by ]")
			}
			b.WriteString(class)
			i = end
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	if _, err := regexp.Compile(b.String()); err != nil {
		return bad(err.Error(), "a glob such as services/api/** or *.go")
	}
	return b.String(), nil
}

// charClass translates the class starting at rs[start] == '[' and returns
// the index of its closing ']'.
func charClass(rs []rune, start int) (int, string, string) {
	var b strings.Builder
	b.WriteString("[")
	i := start + 1
	if i < len(rs) && (rs[i] == '!' || rs[i] == '^') {
		b.WriteString("^/") // a negated class never matches the separator
		i++
	}
	n := 0
	for ; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == ']' && n > 0:
			b.WriteString("]")
			return i, b.String(), ""
		case r == '/':
			return 0, "", "a class cannot hold / (it never matches within a segment)"
		case r == '\\':
			if i+1 == len(rs) {
				return 0, "", "unclosed ["
			}
			i++
			r = rs[i]
		case r == '-' && n > 0 && i+1 < len(rs) && rs[i+1] != ']':
			if lo, hi := rs[i-1], rs[i+1]; lo <= '/' && '/' <= hi {
				return 0, "", "a class cannot hold / (the range " + string(lo) + "-" + string(hi) + " does)"
			}
			b.WriteString("-")
			continue
		}
		if strings.ContainsRune(`\[]^-`, r) {
			b.WriteString("\\") // literal inside an RE2 class
		}
		b.WriteRune(r)
		n++
	}
	return 0, "", "unclosed ["
}
