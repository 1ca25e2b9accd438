package boundedio

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.yaml")
	os.WriteFile(small, []byte("kind: Task\n"), 0o644)
	big := filepath.Join(dir, "big.yaml")
	os.WriteFile(big, make([]byte, 2049), 0o644)
	link := filepath.Join(dir, "link.yaml")
	os.Symlink(small, link)
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.yaml")
	os.Symlink("/dev/zero", zero)

	if b, err := ReadFile(small, 2048); err != nil || string(b) != "kind: Task\n" {
		t.Errorf("small file: %q, %v", b, err)
	}
	if b, err := ReadFile(link, 2048); err != nil || string(b) != "kind: Task\n" {
		t.Errorf("symlink to a regular file: %q, %v", b, err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), 2048); !errors.Is(err, os.ErrNotExist) || err.Error() != "open "+dir+"/missing: no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
	for _, tc := range []struct {
		path string
		is   error
		want string
	}{
		{big, ErrTooLarge, big + ": input too large: more than 2 KiB, the limit for this input"},
		{fifo, ErrNotRegular, fifo + ": not a regular file (a named pipe); give a file"},
		{zero, ErrNotRegular, zero + ": not a regular file (a device); give a file"},
		{dir, ErrNotRegular, dir + ": not a regular file (a folder); give a file"},
	} {
		done := make(chan error, 1)
		go func() { _, err := ReadFile(tc.path, 2048); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, tc.is) || err.Error() != tc.want {
				t.Errorf("ReadFile(%s) = %v, want %q", filepath.Base(tc.path), err, tc.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("ReadFile(%s) blocks", filepath.Base(tc.path))
		}
	}
}

func TestReadAll(t *testing.T) {
	if b, err := ReadAll(strings.NewReader("abcd"), "stdin", 4); err != nil || string(b) != "abcd" {
		t.Errorf("at the limit: %q, %v", b, err)
	}
	_, err := ReadAll(strings.NewReader("abcde"), "stdin", 4)
	if !errors.Is(err, ErrTooLarge) || err.Error() != "stdin: input too large: more than 4 B, the limit for this input" {
		t.Errorf("over the limit: %v", err)
	}
}

func TestQuote(t *testing.T) {
	if got := Quote("main"); got != `"main"` {
		t.Errorf("short value: %s", got)
	}
	long := strings.Repeat("é", 1<<20) // 2 MiB: two bytes per rune
	got := Quote(long)
	want := `"` + strings.Repeat("é", QuoteMax/2) + `"… (2097152 bytes)`
	if got != want {
		t.Errorf("long value quoted as %.100s…, want %s", got, want)
	}
	odd := "x" + long // the cut falls inside a rune
	if got := Quote(odd); !strings.HasPrefix(got, `"x`+strings.Repeat("é", QuoteMax/2-1)+`"…`) {
		t.Errorf("cut inside a rune: %.100s", got)
	}
}

func TestShort(t *testing.T) {
	long := strings.Repeat("a", 1<<20)
	got := fmt.Sprintf("%q is not a name; %s; %v; %d", ShortArgs([]any{long, long, "ok", 7})...)
	want := `"` + strings.Repeat("a", QuoteMax) + `"… (1048576 bytes) is not a name; ` +
		strings.Repeat("a", QuoteMax) + `… (1048576 bytes); ok; 7`
	if got != want {
		t.Errorf("got %.200s\nwant %s", got, want)
	}
}
