// Package boundedio reads the files a command is pointed at (configs, YAML
// to lint, webhook payloads, token files) with a size limit, and refuses
// anything that is not a regular file: a FIFO named *.yaml would block the
// read forever and a symlink to /dev/zero would fill memory. It also caps
// how much of a bad value an error message quotes back.
package boundedio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"unicode/utf8"
)

// ErrTooLarge is wrapped by the error of a read over its limit.
var ErrTooLarge = errors.New("input too large")

// ErrNotRegular is wrapped by the error for a path that is not a regular
// file (a FIFO, a device, a socket, a folder).
var ErrNotRegular = errors.New("not a regular file")

// ReadFile returns the contents of the regular file at path (symlinks
// followed), or an error naming path when it is something else or holds more
// than limit bytes.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := Open(path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, path, limit)
}

// Open opens the regular file at path for reading. It checks before opening,
// so a FIFO is refused instead of blocking, and again on the open file, so a
// path swapped in between is refused too. A file already known to hold more
// than limit bytes is refused at once.
func Open(path string, limit int64) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		// Say "open", as os.Open would: the caller asked to read the file.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			pe.Op = "open"
		}
		return nil, err
	}
	if err := check(path, st, limit); err != nil {
		return nil, err
	}
	// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
	// writer; on a regular file it changes nothing.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if st, err = f.Stat(); err == nil {
		err = check(path, st, limit)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func check(path string, st fs.FileInfo, limit int64) error {
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: %w (%s); give a file", path, ErrNotRegular, kind(st.Mode()))
	}
	if st.Size() > limit {
		return tooLarge(path, limit)
	}
	return nil
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

func tooLarge(name string, limit int64) error {
	return fmt.Errorf("%s: %w: more than %s, the limit for this input", name, ErrTooLarge, Size(limit))
}

// ReadAll reads r to its end, or fails naming name once it yields more than
// limit bytes. It is for streams such as stdin; files go through ReadFile.
func ReadAll(r io.Reader, name string, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(name, limit)
	}
	return b, nil
}

// Size formats a byte count as the limits are written: 1 MiB, 64 KiB, 100 B.
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// QuoteMax is how many bytes of a value Quote shows.
const QuoteMax = 64

// Quote is %q of s, cut to its first QuoteMax bytes (on a rune boundary)
// with the full length said: an error about a 50 MB value names the value
// without echoing it.
func Quote(s string) string {
	if len(s) <= QuoteMax {
		return fmt.Sprintf("%q", s)
	}
	cut := QuoteMax
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:cut], len(s))
}

// Short is a value an error message shows but does not choose: %q prints
// Quote of it, %s and %v its first QuoteMax bytes and, when cut, its length.
type Short string

// Format implements fmt.Formatter.
func (s Short) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		io.WriteString(f, Quote(string(s)))
		return
	}
	if len(s) <= QuoteMax {
		io.WriteString(f, string(s))
		return
	}
	cut := QuoteMax
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	fmt.Fprintf(f, "%s… (%d bytes)", s[:cut], len(s))
}

// ShortArgs returns args with every string made a Short, for error builders
// whose format arguments are values read from input.
func ShortArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if s, ok := a.(string); ok {
			a = Short(s)
		}
		out[i] = a
	}
	return out
}
