package tekton

import "bytes"

// Document is one YAML document of a multi-document stream.
type Document struct {
	Index int    // 0-based among the stream's non-empty documents
	Line  int    // 1-based line of the stream where the document's text starts
	Text  []byte // the document's own text, without its separator line
}

// Split splits a YAML stream into its documents at separator lines: "---"
// at the start of a line, alone or followed by blanks and a comment
// ("--- # the Task"). Documents holding only blanks and comments are
// dropped, and Index counts the others, so every caller numbers documents
// alike. A line starting with "---" followed by anything else (a value on
// the separator line) also separates, as YAML says; its value is kept.
func Split(data []byte) []Document {
	var docs []Document
	start, line, startLine := 0, 1, 1
	cut := func(end int) {
		if piece := data[start:end]; hasContent(piece) {
			docs = append(docs, Document{Index: len(docs), Line: startLine, Text: piece})
		}
	}
	for i := 0; i < len(data); {
		end := bytes.IndexByte(data[i:], '\n')
		next := len(data)
		if end >= 0 {
			next = i + end + 1
		}
		if rest, ok := separator(data[i:next]); ok {
			cut(i)
			start, startLine = next, line+1
			if len(rest) > 0 {
				// "--- value": the value starts the next document, on
				// this line (its columns shift by the marker's width).
				start, startLine = next-len(rest), line
			}
		}
		i = next
		line++
	}
	cut(len(data))
	return docs
}

// separator reports whether l (one line, with its newline) is a document
// separator, and what follows the marker on it when that is not a comment.
func separator(l []byte) ([]byte, bool) {
	if !bytes.HasPrefix(l, []byte("---")) {
		return nil, false
	}
	rest := l[3:]
	t := bytes.TrimSpace(rest)
	switch {
	case len(t) == 0 || t[0] == '#':
		return nil, true
	case rest[0] == ' ' || rest[0] == '\t':
		return bytes.TrimLeft(rest, " \t"), true
	}
	return nil, false // "----", "---x": not a marker
}

func hasContent(b []byte) bool {
	for len(b) > 0 {
		l := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			l, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' {
			return true
		}
	}
	return false
}
